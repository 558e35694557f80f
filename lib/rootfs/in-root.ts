// Paths inside a container's root, resolved by the kernel (openat2) so that
// no symlink, however it was planted (in the image, or by another container
// of the pod in a shared volume), can lead a mount outside the root or a
// volume: the defence against CVE-2017-1002101 and its kin. The result is an
// O_PATH descriptor; mounts then name it as /proc/self/fd/N, so nothing is
// resolved twice.
import { readlinkSync } from 'node:fs';
import { MinipodError } from '../errors.ts';
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
} from '../sys/constants.ts';
import { EEXIST, ENOENT, ENOTDIR } from '../sys/errno.ts';
import { type Libc, SyscallError } from '../sys/libc.ts';

export const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

/** IN_ROOT: `..` and absolute links stop at the root. BENEATH: leaving is an error (EXDEV). */
export type Scope = 'in-root' | 'beneath';

const RESOLVE = {
  'in-root': RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  beneath: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
} as const;

const isErrno = (err: unknown, errno: number) => err instanceof SyscallError && err.errno === errno;

function openAt(libc: Libc, dirfd: number, path: string, scope: Scope, flags = 0): number {
  return libc.openat2(dirfd, path || '.', { flags: O_PATH | O_CLOEXEC | flags, resolve: RESOLVE[scope] }, 'root');
}

/** An O_PATH fd of `path` under `dirfd`, and whether it is a directory. */
export function openIn(libc: Libc, dirfd: number, path: string, scope: Scope): { fd: number; dir: boolean } {
  try {
    return { fd: openAt(libc, dirfd, path, scope, O_DIRECTORY), dir: true };
  } catch (err) {
    if (!isErrno(err, ENOTDIR)) throw err;
    return { fd: openAt(libc, dirfd, path, scope), dir: false };
  }
}

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

/**
 * `path` under `dirfd`, created where missing: every missing parent as a
 * 0755 directory, the last one as a directory or an empty 0644 file.
 * Each step creates one name in a directory that was itself resolved in
 * scope, so creation never lands outside either. A dangling symlink on the
 * way is followed the way the kernel would resolve it in scope, and what
 * it names is created instead (runc's MkdirAllInRoot does the same).
 */
export function ensureIn(libc: Libc, dirfd: number, path: string, scope: Scope, kind: 'dir' | 'file'): number {
  let todo = path;
  for (let links = 0; links <= MAX_LINKS; links++) {
    const result = ensureOnce(libc, dirfd, todo, scope, kind);
    if (typeof result === 'number') return result;
    todo = result.through;
  }
  throw new MinipodError(`${path}: too many levels of symbolic links`);
}

function ensureOnce(libc: Libc, dirfd: number, path: string, scope: Scope, kind: 'dir' | 'file'): number | { through: string } {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let fd = openAt(libc, dirfd, '', scope, O_DIRECTORY);
  try {
    for (const [i, name] of parts.entries()) {
      const soFar = parts.slice(0, i + 1).join('/');
      const parent = `/${parts.slice(0, i).join('/')}`;
      const dir = i < parts.length - 1 || kind === 'dir';
      const flags = dir ? O_DIRECTORY : 0;
      let next: number;
      try {
        next = openAt(libc, dirfd, soFar, scope, flags);
      } catch (err) {
        if (!isErrno(err, ENOENT)) throw err;
        try {
          if (dir) libc.mkdirat(fd, name, 0o755, parent);
          else libc.close(libc.openat2(fd, name, { flags: O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode: 0o644, resolve: RESOLVE[scope] }, parent));
        } catch (createErr) {
          // There, yet not found: a symlink to something missing.
          if (!isErrno(createErr, EEXIST)) throw createErr;
          const target = danglingLink(fd, name, createErr);
          const rest = parts.slice(i + 1).join('/');
          libc.close(fd);
          return { through: `${target.startsWith('/') ? '' : `${parent}/`}${target}/${rest}` };
        }
        next = openAt(libc, fd, name, scope, flags);
      }
      libc.close(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

// readlink through the directory's descriptor: the link is never resolved
// here, only read, and the path it holds is then resolved in scope.
function danglingLink(dirfd: number, name: string, cause: unknown): string {
  try {
    return readlinkSync(`${fdPath(dirfd)}/${name}`);
  } catch {
    throw cause;
  }
}
