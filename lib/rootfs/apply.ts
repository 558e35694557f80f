import { MinipodError, wrapError } from '../errors.ts';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, O_CLOEXEC, O_DIRECTORY, O_PATH, S_IFCHR } from '../sys/constants.ts';
import { ENOENT, ENOTDIR, EXDEV } from '../sys/errno.ts';
import { type Libc, SyscallError } from '../sys/libc.ts';
import { ensureIn, fdPath, openIn } from './in-root.ts';
import type { RootfsOp } from './plan.ts';

export function applyRootfs(libc: Libc, ops: readonly RootfsOp[]): void {
  for (const op of ops) {
    switch (op.op) {
      case 'mount':
        try {
          libc.mount(op.source, op.target, op.fstype, op.flags, op.data ?? null);
        } catch (err) {
          // The likely cause is where --root lives, which the errno alone does not say.
          if (op.fstype !== 'overlay') throw err;
          const hint = "the container's layer needs a state root (--root) on a filesystem overlayfs accepts as an upper layer (tmpfs, ext4, xfs, btrfs; not overlayfs or NFS)";
          throw new MinipodError(`${(err as Error).message}: ${hint}`, { cause: err });
        }
        break;
      case 'mountIn':
        withFd(libc, op.root, (root) => mountIn(libc, root, op));
        break;
      case 'mkdir':
        libc.mkdir(op.path, op.mode);
        libc.chmod(op.path, op.mode); // the umask would have narrowed it
        break;
      case 'mknod':
        libc.mknod(op.path, S_IFCHR | op.mode, op.major, op.minor);
        libc.chmod(op.path, op.mode);
        break;
      case 'symlink':
        libc.symlink(op.target, op.path);
        break;
      case 'mkdirInRoot':
        withFd(libc, op.root, (root) => libc.close(ensureIn(libc, root, op.path, 'in-root', 'dir')));
        break;
      case 'bindVolume':
        try {
          bindVolume(libc, op);
        } catch (err) {
          throw wrapError(`mount volume on ${op.target}${op.subPath ? ` (subPath "${op.subPath}")` : ''}`, err);
        }
        break;
      case 'readOnly':
        withFd(libc, op.target, (root) => libc.mount(null, fdPath(root), null, MS_BIND | MS_REMOUNT | MS_RDONLY));
        break;
      case 'pivot':
        pivotInto(libc, op.root);
        break;
      case 'chdir':
        libc.chdir(op.path);
        break;
    }
  }
}

function withFd<T>(libc: Libc, dir: string, fn: (fd: number) => T): T {
  const fd = libc.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    return fn(fd);
  } finally {
    libc.close(fd);
  }
}

function mountIn(libc: Libc, root: number, op: Extract<RootfsOp, { op: 'mountIn' }>): void {
  const target = openIn(libc, root, op.path, 'in-root');
  try {
    if (!target.dir) throw new MinipodError(`mount ${op.source} on ${op.path}: the mount point must be a directory in the container's root`);
    libc.mount(op.source, fdPath(target.fd), op.fstype, op.flags, op.data ?? null);
  } finally {
    libc.close(target.fd);
  }
}

/**
 * The source is the volume's directory, or its subPath resolved beneath it
 * (created as a directory when missing, as the kubelet does); the target is
 * resolved inside the root and created to match the source. Both are held
 * as descriptors from resolution to mount.
 */
function bindVolume(libc: Libc, op: Extract<RootfsOp, { op: 'bindVolume' }>): void {
  const fds: number[] = [];
  const keep = (fd: number) => (fds.push(fd), fd);
  try {
    const volume = openEither(libc, op.source);
    keep(volume.fd);
    let source = volume;
    if (op.subPath) {
      if (!volume.dir) throw new MinipodError(`subPath needs a directory, and the volume is the file ${op.source}`);
      source = openSubPath(libc, volume.fd, op.subPath);
      keep(source.fd);
    }
    const root = keep(libc.open(op.root, O_PATH | O_DIRECTORY | O_CLOEXEC));
    const target = keep(ensureIn(libc, root, op.target, 'in-root', source.dir ? 'dir' : 'file'));
    libc.mount(fdPath(source.fd), fdPath(target), null, MS_BIND | MS_REC);
    if (op.readOnly) {
      // The new mount is what the path leads to now; the old descriptor still holds what lies under it.
      const mounted = keep(openIn(libc, root, op.target, 'in-root').fd);
      libc.mount(null, fdPath(mounted), null, MS_BIND | MS_REMOUNT | MS_RDONLY);
    }
  } finally {
    for (const fd of fds) libc.close(fd);
  }
}

/** A host path, directory or not (a hostPath volume can be a file). */
function openEither(libc: Libc, path: string): { fd: number; dir: boolean } {
  try {
    return { fd: libc.open(path, O_PATH | O_DIRECTORY | O_CLOEXEC), dir: true };
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === ENOTDIR)) throw err;
    return { fd: libc.open(path, O_PATH | O_CLOEXEC), dir: false };
  }
}

function openSubPath(libc: Libc, volume: number, subPath: string): { fd: number; dir: boolean } {
  try {
    try {
      return openIn(libc, volume, subPath, 'beneath');
    } catch (err) {
      if (!(err instanceof SyscallError && err.errno === ENOENT)) throw err;
      return { fd: ensureIn(libc, volume, subPath, 'beneath', 'dir'), dir: true };
    }
  } catch (err) {
    if (err instanceof SyscallError && err.errno === EXDEV) {
      throw new MinipodError(`subPath leads outside its volume (through a symlink or ..)`, { cause: err });
    }
    throw err;
  }
}

/**
 * crun's way: with the new root as both arguments, the old root ends up
 * stacked under it and is detached at once. No put_old directory is left in
 * the image, and the host's tree is unreachable, not merely hidden.
 */
function pivotInto(libc: Libc, root: string): void {
  libc.chdir(root);
  libc.pivotRoot('.', '.');
  libc.umount2('.', MNT_DETACH);
  libc.chdir('/');
}
