// What openat2(2) does with RESOLVE_IN_ROOT / RESOLVE_BENEATH, done one path
// component at a time for kernels that lack it (before 5.6, or a seccomp
// filter that answers ENOSYS). The safety does not come from checking a path
// and then using it: every component is opened O_NOFOLLOW relative to the
// descriptor of the directory before it, so a symlink swapped in meanwhile is
// never followed by the kernel. Symlinks are read (readlinkat) and their text
// resolved here, in scope; `..` goes back to a descriptor this walk already
// holds, and stops at the root (IN_ROOT) or fails with EXDEV (BENEATH). That
// is filepath-securejoin's walk, with descriptors instead of path strings.
// A magic link of /proc is therefore never jumped through: its text is
// resolved in scope like any other link's (the kernel's RESOLVE_NO_MAGICLINKS
// refuses it instead; both keep the lookup inside).
import {
  O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
} from './constants.ts';
import { EINVAL, ELOOP, ENOENT, EXDEV } from './errno.ts';
import type { RawLibc } from './libc.ts';

/** The errno the walk ends with, as the kernel's openat2 would return it. */
export class WalkErrno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;
const PATH_MAX = 4096;
const DIR = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
const decoder = new TextDecoder();

const parts = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.');

export function openat2Walk(raw: RawLibc, dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  const beneath = (resolve & RESOLVE_BENEATH) !== 0;
  if (!beneath && (resolve & RESOLVE_IN_ROOT) === 0) return unscoped(raw, dirfd, path, flags, mode, resolve);
  if (path === '') throw new WalkErrno(ENOENT);
  if (beneath && path.startsWith('/')) throw new WalkErrno(EXDEV);
  // Descriptors of the directories below dirfd that the walk is in, deepest last.
  const held: number[] = [];
  const here = () => held.at(-1) ?? dirfd;
  const finalFlags = path.endsWith('/') ? flags | O_DIRECTORY : flags;
  let todo = parts(path);
  let links = 0;
  try {
    while (todo.length > 0) {
      const name = todo.shift()!;
      if (name === '..') {
        if (held.length > 0) raw.close(held.pop()!);
        else if (beneath) throw new WalkErrno(EXDEV);
        continue;
      }
      const last = todo.length === 0;
      const target = !last || (flags & O_NOFOLLOW) === 0 ? readlinkIn(raw, here(), name) : null;
      if (target !== null) {
        if (resolve & RESOLVE_NO_SYMLINKS || ++links > MAX_LINKS) throw new WalkErrno(ELOOP);
        if (target.startsWith('/')) {
          if (beneath) throw new WalkErrno(EXDEV);
          while (held.length > 0) raw.close(held.pop()!);
        }
        todo = [...parts(target), ...todo];
        continue;
      }
      if (last) return checked(raw, raw.openat(here(), name, finalFlags | O_NOFOLLOW, mode));
      held.push(checked(raw, raw.openat(here(), name, DIR, 0)));
    }
    // The path named a directory the walk already holds (the root, or after `..`).
    return checked(raw, raw.openat(here(), '.', finalFlags, mode));
  } finally {
    for (const fd of held) raw.close(fd);
  }
}

function unscoped(raw: RawLibc, dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  // Only the scoped lookups are emulated; no caller asks for the others alone.
  if (resolve !== 0) throw new WalkErrno(EINVAL);
  return checked(raw, raw.openat(dirfd, path || '.', flags, mode));
}

/** The link's text, or null when `name` is not a symlink or does not exist (the open says which). */
function readlinkIn(raw: RawLibc, dirfd: number, name: string): string | null {
  const buf = new Uint8Array(PATH_MAX);
  const n = raw.readlinkat(dirfd, name, buf, buf.length);
  if (n >= 0) return decoder.decode(buf.subarray(0, n));
  const errno = raw.errno();
  if (errno === EINVAL || errno === ENOENT) return null;
  throw new WalkErrno(errno);
}

function checked(raw: RawLibc, fd: number): number {
  if (fd < 0) throw new WalkErrno(raw.errno());
  return fd;
}
