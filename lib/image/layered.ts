// An image's files as its container will see them, read before it runs and
// without mounting anything: its layers looked through top first, as
// overlayfs merges them. A single-directory rootfs is the one-layer case.
import { existsSync, lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

export interface Found {
  /** The file on the host: in the topmost layer that has it (for a directory, the topmost of those merged). */
  host: string;
  stat: Stats;
}

/** A directory of the merged view: the layers that contribute to it, top first. */
interface Dir {
  name: string;
  layers: number[];
}

/**
 * `path` in the merged view of `layers` (fs directories, bottom first), as
 * overlayfs shows it: the topmost layer's entry wins; a whiteout (a 0:0
 * character device) hides the entries of the layers below; a directory
 * merges with the directories below it down to the first layer where it is
 * opaque or is not a directory. Symlinks are followed inside the image,
 * with `..` and absolute targets stopping at its root, the way a chroot
 * resolves them (filepath-securejoin's algorithm), up to 40 of them; with
 * `followLast: false` a final symlink is returned itself, as lstat does.
 * Null when the path does not exist (or goes through a non-directory).
 *
 * For reading an image's files while planning; what the runtime mounts on
 * is resolved by the kernel (openat2 RESOLVE_IN_ROOT), with no window
 * between check and use.
 */
export function resolveInLayers(layers: readonly string[], path: string, opts: { followLast?: boolean } = {}): Found | null {
  if (layers.length === 0) return null;
  const opaque = opaqueDirs(layers);
  const topFirst = layers.map((_, i) => layers.length - 1 - i);
  const root: Dir = { name: '', layers: cutAtOpaque(topFirst, (i) => opaque(i).has('/')) };
  let stack: Dir[] = [root];
  let found: Found | null = null;
  let todo = path.split('/');
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '' || part === '.') continue;
    if (found) return null; // a component below a non-directory: ENOTDIR
    if (part === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const rel = [...stack.slice(1).map((d) => d.name), part].join('/');
    const entry = lookup(layers, stack.at(-1)!.layers, rel, (i) => opaque(i).has(`/${rel}`));
    if (entry === null) return null;
    if ('layers' in entry) {
      stack.push({ name: part, layers: entry.layers });
      continue;
    }
    const last = todo.every((p) => p === '' || p === '.');
    if (entry.stat.isSymbolicLink() && (opts.followLast !== false || !last)) {
      if (++links > MAX_LINKS) throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
      const target = readlinkSync(entry.host);
      if (target.startsWith('/')) stack = [root];
      todo = [...target.split('/'), ...todo];
      continue;
    }
    found = entry;
  }
  if (found) return found;
  const dir = stack.at(-1)!;
  const rel = stack.slice(1).map((d) => d.name).join('/');
  const host = `${layers[dir.layers[0]!]}/${rel}`;
  return { host, stat: lstatSync(host) };
}

/** A text file of the image, or null when it has none. */
export function readInLayers(layers: readonly string[], path: string): string | null {
  const found = resolveInLayers(layers, path);
  if (!found) return null;
  try {
    return readFileSync(found.host, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * `rel` in the directory merged from `dirLayers` (indices, top first): the
 * layers where it is a directory, merged; or the topmost non-directory.
 */
function lookup(layers: readonly string[], dirLayers: number[], rel: string, isOpaque: (i: number) => boolean): Found | { layers: number[] } | null {
  const merged: number[] = [];
  for (const i of dirLayers) {
    const host = `${layers[i]}/${rel}`;
    const stat = lstatSync(host, { throwIfNoEntry: false });
    if (!stat) continue;
    if (isWhiteout(stat)) break;
    if (!stat.isDirectory()) {
      if (merged.length === 0) return { host, stat };
      break; // overlayfs stops merging at a lower non-directory
    }
    merged.push(i);
    if (isOpaque(i)) break;
  }
  return merged.length > 0 ? { layers: merged } : null;
}

function cutAtOpaque(topFirst: number[], isOpaque: (i: number) => boolean): number[] {
  const at = topFirst.findIndex(isOpaque);
  return at < 0 ? topFirst : topFirst.slice(0, at + 1);
}

const isWhiteout = (stat: Stats) => stat.isCharacterDevice() && stat.rdev === 0;

/**
 * The opaque directories of each layer, from the layer.json beside its fs
 * directory (a store snapshot), read once per lookup and only when asked:
 * the bottom layer's never matter, and a plain rootfs directory has none.
 */
function opaqueDirs(layers: readonly string[]): (i: number) => Set<string> {
  const cache = new Map<number, Set<string>>();
  return (i) => {
    let dirs = cache.get(i);
    if (!dirs) {
      dirs = new Set(i === 0 ? [] : readOpaque(`${dirname(layers[i]!)}/layer.json`));
      cache.set(i, dirs);
    }
    return dirs;
  };
}

function readOpaque(file: string): string[] {
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw wrapError(file, err);
  }
  return isObject(parsed) && isStringArray(parsed.opaque) ? parsed.opaque.map((p) => `/${p.split('/').filter(Boolean).join('/')}`) : [];
}
