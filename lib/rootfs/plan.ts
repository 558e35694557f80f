import { dirname, relative } from 'node:path';
import { MinipodError } from '../errors.ts';
import type { MountPlan } from '../spec/plan-types.ts';
import type { ContainerLayer } from '../state/pod-dir.ts';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_STRICTATIME } from '../sys/constants.ts';

// A container's filesystem set-up, planned as a list of operations (as
// bubblewrap does) and then carried out by one small loop. Planning is pure,
// so the exact sequence is unit-tested without root.

export type RootfsOp =
  | { op: 'mount'; source: string | null; target: string; fstype: string | null; flags: number; data?: string }
  /** A mount on the directory `path` resolved by the kernel inside `root`, made through its descriptor. */
  | { op: 'mountIn'; root: string; path: string; source: string; fstype: string | null; flags: number; data?: string }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number }
  | { op: 'symlink'; target: string; path: string }
  /** A directory inside `root`, created with its parents where missing, resolved by the kernel inside `root`. */
  | { op: 'mkdirInRoot'; root: string; path: string }
  /** A volume (a host directory or file, or `subPath` beneath it) bound on `target` inside `root`. */
  | { op: 'bindVolume'; root: string; source: string; subPath: string; target: string; readOnly: boolean }
  | { op: 'readOnly'; target: string }
  | { op: 'pivot'; root: string }
  /** The thread's working directory (restored by ThreadNamespaces.run): relative overlay layer paths start there. */
  | { op: 'chdir'; path: string };

/** The devices every OCI runtime creates, with their fixed major:minor numbers. */
export const DEVICES = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
] as const;

const DEV_LINKS = [
  { path: 'ptmx', target: 'pts/ptmx' },
  { path: 'fd', target: '/proc/self/fd' },
  { path: 'stdin', target: '/proc/self/fd/0' },
  { path: 'stdout', target: '/proc/self/fd/1' },
  { path: 'stderr', target: '/proc/self/fd/2' },
] as const;

/** Mount points that must exist as real directories in the image. */
export const MOUNT_POINTS = ['proc', 'dev', 'sys'] as const;

export interface RootfsPlanInput {
  /** The image's layers, bottom first: the overlay's lower layers, never written to. */
  layers: readonly string[];
  /** The container's writable layer; `merged` becomes its root. */
  layer: ContainerLayer;
  /** Mount points the image lacks (see checkMountPoints): made in the container's layer. */
  missing: readonly string[];
  /** The pod's /dev/shm tmpfs, as the runtime thread sees it in the pod's mount namespace. */
  podShm: string;
  /** The container's volume mounts, each with its volume's source path. */
  mounts: readonly (MountPlan & { source: string })[];
  workingDir: string;
  readOnlyRootFilesystem: boolean;
  /** /sys writable, as Docker and Kubernetes give a privileged container. */
  privileged: boolean;
  /** The procfs the exec helper is started from (see planRootfs), as the runtime thread sees it. */
  helperProcfs: string;
}

// overlayfs splits its options at ',' and its layers at ':', both escaped with
// a backslash: an image named busybox:1.36 lives in a directory with a colon.
const overlayPath = (path: string) => path.replace(/[\\:,]/g, (c) => `\\${c}`);

/** The kernel copies at most a page of mount options, NUL included. */
const MAX_MOUNT_DATA = 4095;
/** overlayfs' OVL_MAX_STACK. */
const MAX_LAYERS = 500;

/**
 * The container's root: an overlay of the image's layers (topmost first in
 * lowerdir) under the container's own writable layer. An image with many
 * layers does not fit one page of mount options as absolute paths; then, as
 * containerd does, the layers are named relative to the working directory:
 * short links `l/0`, `l/1`, ... beside the container's upper directory,
 * which overlayfs follows once, at mount time.
 */
function overlayOps(layers: readonly string[], layer: ContainerLayer): RootfsOp[] {
  if (layers.length === 0) throw new MinipodError('image has no layers');
  if (layers.length > MAX_LAYERS) throw new MinipodError(`image has ${layers.length} layers; overlayfs stacks at most ${MAX_LAYERS}`);
  const top = [...layers].reverse();
  const options = (lower: string[], upper: string, work: string) =>
    `lowerdir=${lower.map(overlayPath).join(':')},upperdir=${overlayPath(upper)},workdir=${overlayPath(work)}`;
  const mount = (data: string): RootfsOp => ({ op: 'mount', source: 'overlay', target: layer.merged, fstype: 'overlay', flags: 0, data });
  const data = options(top, layer.upper, layer.work);
  if (data.length <= MAX_MOUNT_DATA) return [mount(data)];
  const base = dirname(layer.upper);
  const links = top.map((_, i) => `l/${i}`);
  return [
    { op: 'mkdir', path: `${base}/l`, mode: 0o700 },
    ...top.map((target, i): RootfsOp => ({ op: 'symlink', target, path: `${base}/${links[i]}` })),
    { op: 'chdir', path: base },
    mount(options(links, relative(base, layer.upper), relative(base, layer.work))),
  ];
}

/**
 * Runs in a fresh mount namespace copied from the pod's, whose mounts are
 * already private: nothing here propagates back to the host. The container's
 * root is an overlay of its image and a layer of its own, so what it writes
 * (and the mount points made for its volumes) never reaches the image.
 */
export function planRootfs(input: RootfsPlanInput): RootfsOp[] {
  const { layer, podShm } = input;
  const rootfs = layer.merged;
  const at = (path: string) => `${rootfs}/${path}`;
  const dev = (name: string) => at(`dev/${name}`);
  // Not a path looked up again at mount time: what the image or a volume put there cannot redirect it.
  const mountIn = (path: string, source: string, fstype: string | null, flags: number, data?: string): RootfsOp =>
    ({ op: 'mountIn', root: rootfs, path, source, fstype, flags, ...(data === undefined ? {} : { data }) });
  const noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  // Parents before children, as containerd orders mounts: /data before /data/logs.
  const mounts = [...input.mounts].sort((a, b) => depth(a.target) - depth(b.target));
  return [
    // Also the mount point pivot_root needs the new root to be.
    ...overlayOps(input.layers, layer),
    ...input.missing.map((name): RootfsOp => ({ op: 'mkdir', path: at(name), mode: 0o755 })),
    mountIn('/dev', 'tmpfs', 'tmpfs', MS_NOSUID | MS_STRICTATIME, 'mode=755,size=65536k'),
    ...DEVICES.map((d): RootfsOp => ({ op: 'mknod', path: dev(d.name), mode: 0o666, major: d.major, minor: d.minor })),
    ...DEV_LINKS.map((l): RootfsOp => ({ op: 'symlink', target: l.target, path: dev(l.path) })),
    { op: 'mkdir', path: dev('pts'), mode: 0o755 },
    mountIn('/dev/pts', 'devpts', 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5'),
    // One tmpfs per pod, bound into every container: IPC sharing in
    // Kubernetes is the namespace and /dev/shm together.
    { op: 'mkdir', path: dev('shm'), mode: 0o1777 },
    mountIn('/dev/shm', podShm, null, MS_BIND),
    { op: 'mkdir', path: dev('mqueue'), mode: 0o755 },
    mountIn('/dev/mqueue', 'mqueue', 'mqueue', noexec),
    mountIn('/sys', 'sysfs', 'sysfs', noexec | (input.privileged ? 0 : MS_RDONLY)),
    ...mounts.map((m): RootfsOp => ({
      op: 'bindVolume', root: rootfs, source: m.source, subPath: m.subPath, target: m.target, readOnly: m.readOnly,
    })),
    // As runc does, before the root turns read-only.
    { op: 'mkdirInRoot', root: rootfs, path: input.workingDir },
    ...(input.readOnlyRootFilesystem ? [{ op: 'readOnly', target: rootfs } as const] : []),
    // Only so that the exec helper can be started as /proc/self/fd/<n> after
    // pivot_root: a procfs in which it is visible, which it replaces with a
    // procfs of the container's PID namespace before anything of the
    // container runs. Joining the pod's PID namespace (where a container
    // allowed to ptrace could look through /proc/<helper>/root), it is the
    // pod's, with nothing of the host's in it; the host's only for a PID
    // namespace of the container's own, where no container sees the helper.
    mountIn('/proc', input.helperProcfs, null, MS_BIND),
    { op: 'pivot', root: rootfs },
  ];
}

const depth = (path: string) => path.split('/').filter(Boolean).length;
