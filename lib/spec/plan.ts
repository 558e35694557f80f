// A validated manifest -> the PodPlan the runtime executes: images resolved
// to directories, argv, environment and users computed the way a Kubernetes
// node (kubelet + containerd) computes them, defaults filled in.
import { posix } from 'node:path';
import { containerResources } from '../cgroup/limits.ts';
import { capabilityMask } from '../security/capabilities.ts';
import { MinipodError } from '../errors.ts';
import { type ImageConfig, type ImageLocation, resolveImage, type StoreImages } from '../image/image.ts';
import { parseStopSignal } from '../image/stop-signal.ts';
import { nonRootViolation, resolveUser, type UserRequest } from '../image/user.ts';
import { SIGTERM } from '../sys/constants.ts';
import type { ContainerSpec, FieldPath, PodManifest, QuantityValue, VolumeSpec } from './manifest.ts';
import type { ContainerPlan, MountPlan, PodPlan, SecurityPlan, VolumePlan } from './plan-types.ts';
import { parseQuantity } from './quantity.ts';
import { throughDescriptors } from './validate/container-checks.ts';

/** containerd's default when neither the image nor the pod sets PATH. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface PlanOptions extends ImageLocation {
  /** The pulled and loaded images; null where the manifest names none (directory and path images need no store). */
  store: StoreImages | null;
  /** metadata.uid for this run of the pod. */
  uid: string;
  /** The machine minipod runs on, as spec.nodeName and status.hostIP. */
  node: { name: string; ip: string };
}

export function planPod(pod: PodManifest, opts: PlanOptions): PodPlan {
  const { metadata, spec } = pod;
  const host = { network: spec.hostNetwork ?? false, ipc: spec.hostIPC ?? false, pid: spec.hostPID ?? false };
  // A pod on the host's network shares its UTS namespace too, so its hostname is the node's.
  const hostname = host.network ? opts.node.name : spec.hostname || hostnameFromPodName(metadata.name);
  // minipod's pods have only loopback, so no pod IP of their own, unless on the host's network, where it is the host's, as in Kubernetes.
  const podIP = host.network ? opts.node.ip : '';
  const fields = downwardFields(pod, opts, podIP);
  // What only planning can find (a missing image, runAsNonRoot against the
  // image's user) is reported for every container at once, as validation is.
  const errors: MinipodError[] = [];
  const plan = (c: ContainerSpec, path: string): ContainerPlan[] => {
    try {
      return [planContainer(c, path, { pod, hostname, fields, opts })];
    } catch (err) {
      if (!(err instanceof MinipodError)) throw err;
      errors.push(err);
      return [];
    }
  };
  const initContainers = (spec.initContainers ?? []).flatMap((c, i) => plan(c, `spec.initContainers[${i}]`));
  const containers = spec.containers.flatMap((c, i) => plan(c, `spec.containers[${i}]`));
  const imageVolumes = [...initContainers, ...containers].flatMap((c) => c.mounts.filter((m) => isImageVolume(m.volume)));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new MinipodError(errors.map((e) => e.message).join('\n'), { cause: errors[0] });
  return {
    name: metadata.name,
    namespace: metadata.namespace || 'default',
    uid: opts.uid,
    node: opts.node,
    podIP,
    hostname,
    sharePid: spec.shareProcessNamespace ?? false,
    host,
    restartPolicy: spec.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    activeDeadlineSeconds: spec.activeDeadlineSeconds ?? null,
    volumes: [
      ...(spec.volumes ?? []).map(planVolume),
      ...imageVolumes.map((m): VolumePlan => ({ name: m.volume, kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null })),
    ],
    initContainers,
    containers,
  };
}

// As the kubelet does: a pod name may be a 253-character subdomain, a
// hostname holds 63, and must not end in '-' or '.' once cut.
function hostnameFromPodName(name: string): string {
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

function planVolume(v: VolumeSpec): VolumePlan {
  if (v.hostPath) return { name: v.name, kind: 'hostPath', path: v.hostPath.path, type: v.hostPath.type ?? '' };
  const { medium, sizeLimit } = v.emptyDir ?? {};
  return { name: v.name, kind: 'emptyDir', medium: medium === 'Memory' ? 'memory' : 'disk', sizeLimitBytes: sizeBytes(sizeLimit) };
}

/** More than any machine's memory: beyond it a limit limits nothing (and 1e2000000000 would not fit in memory as a number). */
const NO_LIMIT_ABOVE = parseQuantity('8Ei');

// Zero means no limit to the kubelet as well.
function sizeBytes(sizeLimit: QuantityValue | undefined): bigint | null {
  if (sizeLimit === undefined) return null;
  const q = parseQuantity(sizeLimit);
  return q.sign() <= 0 || q.cmp(NO_LIMIT_ABOVE) > 0 ? null : q.value();
}

/** What `valueFrom.fieldRef` reads. */
function downwardFields(pod: PodManifest, opts: PlanOptions, podIP: string): (path: FieldPath) => string {
  const { metadata, spec } = pod;
  const fixed: Record<string, string> = {
    'metadata.name': metadata.name,
    'metadata.namespace': metadata.namespace || 'default',
    'metadata.uid': opts.uid,
    'spec.nodeName': opts.node.name,
    'spec.serviceAccountName': spec.serviceAccountName || 'default',
    'status.hostIP': opts.node.ip,
    'status.hostIPs': opts.node.ip,
    'status.podIP': podIP,
    'status.podIPs': podIP,
  };
  return (path) => {
    const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
    if (!subscript) return fixed[path] ?? '';
    const map = metadata[subscript[1] as 'labels' | 'annotations'] ?? {};
    // Own keys only: a label named "constructor" is no Object method.
    return Object.hasOwn(map, subscript[2]!) ? map[subscript[2]!]! : '';
  };
}

interface PodContext {
  pod: PodManifest;
  hostname: string;
  fields: (path: FieldPath) => string;
  opts: PlanOptions;
}

/** The manifest's workingDir is validated; the image's, only known now, must pass the same check (CVE-2024-21626). */
function imageWorkingDir(name: string, config: ImageConfig): string | undefined {
  const dir = config.WorkingDir;
  if (dir && throughDescriptors(dir)) {
    throw new MinipodError(`image "${name}": config WorkingDir "${dir}" must not be under a /proc/PID/fd directory`);
  }
  return dir;
}

function planContainer(c: ContainerSpec, path: string, { pod, hostname, fields, opts }: PodContext): ContainerPlan {
  const image = resolveImage(c.image, `${path}.image`, opts, opts.store);
  const declared = declaredEnv(c, fields);
  const argv = containerArgv(c, image.config, declared);
  if (argv.length === 0) {
    throw new MinipodError(`${path}.command: Required value: image "${c.image}" has no default command`);
  }
  // containerd's order: its defaults, then the image's Env, then the pod's;
  // a later definition wins.
  const env = new Map([['PATH', DEFAULT_PATH], ['HOSTNAME', hostname]]);
  for (const entry of image.config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const [name, value] of declared) env.set(name, value);
  return {
    name: c.name,
    image: c.image,
    imageID: image.imageID,
    layers: image.layers,
    argv,
    env: Object.fromEntries(env),
    workingDir: c.workingDir || imageWorkingDir(c.image, image.config) || '/',
    user: containerUser(c, path, pod, image.layers, image.config),
    readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem ?? false,
    mounts: containerMounts(c, `${path}.image: image "${c.image}"`, image.config),
    resources: containerResources(c.resources),
    security: containerSecurity(c, pod),
    sidecar: c.restartPolicy === 'Always',
    stopSignal: image.config.StopSignal ? parseStopSignal(image.config.StopSignal, `${path}.image: image "${c.image}"`) : SIGTERM,
  };
}

function containerMounts(c: ContainerSpec, context: string, config: ImageConfig): MountPlan[] {
  const mounts = (c.volumeMounts ?? []).map((m): MountPlan => ({
    volume: m.name,
    target: m.mountPath,
    subPath: (m.subPath ?? '').split('/').filter((p) => p !== '' && p !== '.').join('/'),
    readOnly: m.readOnly ?? false,
  }));
  // As CRI-O does: each volume the image declares is an anonymous emptyDir of
  // the container's, unless the pod mounts a volume of its own there.
  const taken = new Set(mounts.map((m) => posix.normalize(m.target).replace(/(.)\/$/, '$1')));
  const anonymous = (config.Volumes ?? []).flatMap((target, i): MountPlan[] => {
    if (!target.startsWith('/')) throw new MinipodError(`${context}: config Volumes "${target}" must be an absolute path`);
    const clean = posix.normalize(target).replace(/(.)\/$/, '$1');
    if (taken.has(clean)) return [];
    taken.add(clean);
    return [{ volume: `${c.name}${IMAGE_VOLUME}${i}`, target: clean, subPath: '', readOnly: false }];
  });
  return [...mounts, ...anonymous];
}

/** Volume names are DNS labels, which have no dots: no name of the pod's can be one of these. */
const IMAGE_VOLUME = '.image-volume.';
const isImageVolume = (name: string) => name.includes(IMAGE_VOLUME);

// minipod's defaults are stricter than Kubernetes' on one point: no_new_privs
// unless the manifest asks for privilege escalation (Kubernetes allows it by
// default); see the README's Security section.
function containerSecurity(c: ContainerSpec, pod: PodManifest): SecurityPlan {
  const sc = c.securityContext ?? {};
  const privileged = sc.privileged ?? false;
  const profile = sc.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type ?? 'RuntimeDefault';
  return {
    capabilities: capabilityMask({ add: sc.capabilities?.add, drop: sc.capabilities?.drop, privileged }),
    noNewPrivs: !privileged && sc.allowPrivilegeEscalation !== true,
    privileged,
    seccomp: !privileged && profile === 'RuntimeDefault',
  };
}

// The container's securityContext wins over the pod's, field by field.
function containerUser(c: ContainerSpec, path: string, pod: PodManifest, layers: string[], config: ImageConfig) {
  const podContext = pod.spec.securityContext ?? {};
  const own = c.securityContext ?? {};
  const req: UserRequest = {
    runAsUser: own.runAsUser ?? podContext.runAsUser,
    runAsGroup: own.runAsGroup ?? podContext.runAsGroup,
    supplementalGroups: podContext.supplementalGroups,
    imageUser: config.User,
  };
  const user = resolveUser(layers, req, path);
  if (own.runAsNonRoot ?? podContext.runAsNonRoot) {
    const violation = nonRootViolation(req, user);
    if (violation) throw new MinipodError(`${path}: ${violation} (pod: "${pod.metadata.name}", container: ${c.name})`);
  }
  return user;
}

// The container's own variables, as the kubelet resolves them: each value can
// refer to variables declared before it; the image's Env and what the runtime
// adds (PATH, HOSTNAME) are not visible to these references. A fieldRef
// value is taken as it is, never expanded.
function declaredEnv(c: ContainerSpec, fields: (path: FieldPath) => string): Map<string, string> {
  const env = new Map<string, string>();
  for (const { name, value, valueFrom } of c.env ?? []) {
    env.set(name, valueFrom ? fields(valueFrom.fieldRef.fieldPath) : expandVars(value ?? '', (v) => env.get(v)));
  }
  return env;
}

// Kubernetes' rules (kubelet + containerd): command replaces the image's
// Entrypoint and args its Cmd; args alone keep the Entrypoint. Only the pod's
// command and args are expanded, against the container's declared variables.
function containerArgv(c: ContainerSpec, config: ImageConfig, declared: Map<string, string>): string[] {
  const expand = (s: string): string => expandVars(s, (v) => declared.get(v));
  const command = (c.command ?? []).map(expand);
  const args = (c.args ?? []).map(expand);
  if (command.length > 0) return [...command, ...args];
  return [...(config.Entrypoint ?? []), ...(args.length > 0 ? args : (config.Cmd ?? []))];
}

/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion), step
 * for step: `$(VAR)` becomes VAR's value, or stays as written when VAR is not
 * defined; `$$` is a literal `$`; any other `$` is left alone.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    const close = next === '(' ? input.indexOf(')', cursor + 2) : -1;
    if (close >= 0) {
      const name = input.slice(cursor + 2, close);
      out += lookup(name) ?? `$(${name})`;
      cursor = close;
    } else {
      // `$$` -> `$`; an unclosed `$(` or a `$x` is copied through.
      out += next === '$' ? '$' : `$${next}`;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
