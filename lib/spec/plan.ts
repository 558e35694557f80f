// A validated manifest -> the PodPlan the runtime executes: images resolved
// to directories, argv and environment computed the way a Kubernetes node
// (kubelet + containerd) computes them, defaults filled in.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import type { ContainerPlan, PodPlan } from './plan-types.ts';
import type { ContainerSpec, PodManifest } from './manifest.ts';
import { isObject, isStringArray } from './validate.ts';

/** containerd's default when neither the image nor the pod sets PATH. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface PlanOptions {
  /** Absolute directory of the manifest file: relative image paths start there. */
  manifestDir: string;
  /** The image store: one `<name>/rootfs/` (+ optional `<name>/config.json`) per image. */
  imagesDir: string;
}

export function planPod(pod: PodManifest, opts: PlanOptions): PodPlan {
  const { metadata, spec } = pod;
  const hostname = spec.hostname || hostnameFromPodName(metadata.name);
  return {
    name: metadata.name,
    namespace: metadata.namespace || 'default',
    hostname,
    sharePid: spec.shareProcessNamespace ?? false,
    restartPolicy: spec.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    containers: spec.containers.map((c, i) => planContainer(c, `spec.containers[${i}]`, hostname, opts)),
  };
}

// As the kubelet does: a pod name may be a 253-character subdomain, a
// hostname holds 63, and must not end in '-' or '.' once cut.
function hostnameFromPodName(name: string): string {
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

function planContainer(c: ContainerSpec, path: string, hostname: string, opts: PlanOptions): ContainerPlan {
  const image = resolveImage(c.image, `${path}.image`, opts);
  const declared = declaredEnv(c);
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
    rootfs: image.rootfs,
    argv,
    env: Object.fromEntries(env),
    workingDir: c.workingDir || image.config.WorkingDir || '/',
  };
}

/** The part of an OCI image config minipod reads. */
interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
}

// A Docker-style name: lower-case path components, an optional tag. Neither
// a registry port nor a digest: the store is a directory, not a registry. No
// component can be '.' or '..', so a name never leaves the store.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?$`);

/**
 * `/x`, `./x` and `../x` name a root filesystem directory (relative to the
 * manifest), with no image config. Anything else names an image in the store,
 * one directory per name as written: `busybox:1.36` is `<imagesDir>/busybox:1.36/`,
 * except that `:latest` is the untagged name, so `busybox:latest` and `busybox`
 * are both `<imagesDir>/busybox/`.
 */
function resolveImage(image: string, field: string, opts: PlanOptions): { rootfs: string; config: ImageConfig } {
  if (/^\.{0,2}\//.test(image)) {
    const rootfs = resolve(opts.manifestDir, image);
    if (!isDirectory(rootfs)) throw new MinipodError(`${field}: image "${image}" not found (looked in ${rootfs})`);
    return { rootfs, config: {} };
  }
  if (!IMAGE_NAME.test(image)) {
    throw new MinipodError(`${field}: image "${image}" is not a path (/..., ./..., ../...) nor an image name (name[:tag])`);
  }
  // resolve, not join: the plan promises absolute paths whatever imagesDir is.
  const dir = resolve(opts.imagesDir, image.replace(/:latest$/, ''));
  const rootfs = join(dir, 'rootfs');
  if (!isDirectory(rootfs)) {
    throw new MinipodError(`${field}: image "${image}" not found (looked in ${rootfs}; run make to build the busybox image)`);
  }
  return { rootfs, config: readImageConfig(join(dir, 'config.json'), `${field}: image "${image}"`) };
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function readImageConfig(file: string, context: string): ImageConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw wrapError(`${context}: read ${file}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw wrapError(`${context}: ${file}`, err);
  }
  const config = isObject(parsed) && isObject(parsed.config) ? parsed.config : {};
  // Docker writes `null` for unset fields.
  const field = <T>(key: string, ok: (v: unknown) => v is T, type: string): T | undefined => {
    const value = config[key] ?? undefined;
    if (value === undefined || ok(value)) return value;
    throw new MinipodError(`${context}: ${file}: config.${key} must be ${type}`);
  };
  return {
    Entrypoint: field('Entrypoint', isStringArray, 'an array of strings'),
    Cmd: field('Cmd', isStringArray, 'an array of strings'),
    Env: field('Env', isStringArray, 'an array of strings'),
    WorkingDir: field('WorkingDir', (v): v is string => typeof v === 'string', 'a string'),
  };
}

// The container's own variables, as the kubelet resolves them: each value can
// refer to variables declared before it; the image's Env and what the runtime
// adds (PATH, HOSTNAME) are not visible to these references.
function declaredEnv(c: ContainerSpec): Map<string, string> {
  const env = new Map<string, string>();
  for (const { name, value } of c.env ?? []) env.set(name, expandVars(value ?? '', (v) => env.get(v)));
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
