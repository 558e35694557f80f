import { lstatSync, readFileSync, readlinkSync } from 'node:fs';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

/**
 * `path` as the container would see it inside `root`, as a host path:
 * symlinks are followed, but `..` and absolute link targets stop at `root`,
 * the way a chroot resolves them (filepath-securejoin's algorithm). For
 * reading an image's files before it runs; what the runtime mounts on is
 * resolved by the kernel instead (openat2 RESOLVE_IN_ROOT), with no window
 * between check and use.
 */
export function resolveInRoot(root: string, path: string): string {
  const done: string[] = [];
  let todo = path.split('/');
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = `${root}/${[...done, part].join('/')}`;
    const stat = lstatSync(host, { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    todo = [...target.split('/'), ...todo];
  }
  return `${root}/${done.join('/')}`;
}

/** A text file of the image, or null when it has none. */
export function readInRoot(root: string, path: string): string | null {
  try {
    return readFileSync(resolveInRoot(root, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
