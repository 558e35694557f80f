import { MNT_DETACH, S_IFCHR } from '../sys/constants.ts';
import type { Libc } from '../sys/libc.ts';
import type { RootfsOp } from './plan.ts';

export function applyRootfs(libc: Libc, ops: readonly RootfsOp[]): void {
  for (const op of ops) {
    switch (op.op) {
      case 'mount':
        libc.mount(op.source, op.target, op.fstype, op.flags, op.data ?? null);
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
      case 'pivot':
        pivotInto(libc, op.root);
        break;
    }
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
