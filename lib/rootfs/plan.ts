import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_STRICTATIME } from '../sys/constants.ts';

// A container's filesystem set-up, planned as a list of operations (as
// bubblewrap does) and then carried out by one small loop. Planning is pure,
// so the exact sequence is unit-tested without root.

export type RootfsOp =
  | { op: 'mount'; source: string | null; target: string; fstype: string | null; flags: number; data?: string }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'pivot'; root: string };

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
  rootfs: string;
  /** The pod's /dev/shm tmpfs, as the runtime thread sees it in the pod's mount namespace. */
  podShm: string;
}

/**
 * Runs in a fresh mount namespace copied from the pod's, whose mounts are
 * already private: nothing here propagates back to the host.
 */
export function planRootfs({ rootfs, podShm }: RootfsPlanInput): RootfsOp[] {
  const at = (path: string) => `${rootfs}/${path}`;
  const dev = (name: string) => at(`dev/${name}`);
  const noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  return [
    // pivot_root needs the new root to be a mount point; the bind also keeps
    // the mounts below on the container's own copy of the tree.
    { op: 'mount', source: rootfs, target: rootfs, fstype: null, flags: MS_BIND | MS_REC },
    { op: 'mount', source: 'tmpfs', target: at('dev'), fstype: 'tmpfs', flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' },
    ...DEVICES.map((d): RootfsOp => ({ op: 'mknod', path: dev(d.name), mode: 0o666, major: d.major, minor: d.minor })),
    ...DEV_LINKS.map((l): RootfsOp => ({ op: 'symlink', target: l.target, path: dev(l.path) })),
    { op: 'mkdir', path: dev('pts'), mode: 0o755 },
    { op: 'mount', source: 'devpts', target: dev('pts'), fstype: 'devpts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    // One tmpfs per pod, bound into every container: IPC sharing in
    // Kubernetes is the namespace and /dev/shm together.
    { op: 'mkdir', path: dev('shm'), mode: 0o1777 },
    { op: 'mount', source: podShm, target: dev('shm'), fstype: null, flags: MS_BIND },
    { op: 'mkdir', path: dev('mqueue'), mode: 0o755 },
    { op: 'mount', source: 'mqueue', target: dev('mqueue'), fstype: 'mqueue', flags: noexec },
    { op: 'mount', source: 'sysfs', target: at('sys'), fstype: 'sysfs', flags: noexec | MS_RDONLY },
    // Only so that the exec helper can be started as /proc/<runtime>/fd/<n>
    // after pivot_root: the helper replaces it with a procfs of the
    // container's PID namespace before anything of the container runs.
    { op: 'mount', source: '/proc', target: at('proc'), fstype: null, flags: MS_BIND },
    { op: 'pivot', root: rootfs },
  ];
}
