// Where an entry of a layer goes, from its name alone: the path components
// inside the snapshot, and whether the name is an overlay whiteout. Pure,
// so every rule is tested without touching a filesystem.

/** The components of a path inside the layer, or the rule the name breaks. */
export type LayerPath = { parts: string[] } | { refused: string };

/**
 * A name as the layer means it: `./` and empty or `.` components dropped
 * (tar writers emit `./etc/passwd` and `etc//x`). Absolute names and `..`
 * are refused rather than cleaned, unlike containerd, which confines them:
 * no tool writes them, so a layer that has them was made to probe.
 */
export function layerPath(name: string): LayerPath {
  if (name === '') return { refused: 'empty name' };
  if (name.includes('\0')) return { refused: 'name contains a NUL byte' };
  if (name.startsWith('/')) return { refused: 'absolute name (names in a layer are relative to its root)' };
  const parts: string[] = [];
  let depth = 0;
  let leaves = false;
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (--depth < 0) leaves = true;
    } else {
      depth++;
    }
    parts.push(part);
  }
  if (leaves) return { refused: 'path leaves the layer' };
  if (parts.includes('..')) return { refused: 'name has a ".." component' };
  return { parts };
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** aufs' own metadata (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the image. */
const AUFS_META = '.wh..wh.';

/** What an entry of a layer is to overlayfs. */
export type EntryRole =
  | { role: 'root' }
  | { role: 'file'; parts: string[] }
  | { role: 'whiteout'; parts: string[] }
  | { role: 'opaque'; parts: string[] }
  | { role: 'aufs' };

/**
 * The OCI layer rules (image-spec layer.md): `DIR/.wh.NAME` deletes NAME
 * from the layers below, `DIR/.wh..wh..opq` hides all of DIR below; other
 * `.wh..wh.` names, and everything under them, are aufs bookkeeping and
 * skipped, as containerd does.
 */
export function entryRole(parts: string[]): EntryRole | { refused: string } {
  if (parts.length === 0) return { role: 'root' };
  if (parts.slice(0, -1).some((p) => p.startsWith(AUFS_META))) return { role: 'aufs' };
  const base = parts.at(-1)!;
  const dir = parts.slice(0, -1);
  if (base === OPAQUE) return { role: 'opaque', parts: dir };
  if (base.startsWith(AUFS_META)) return { role: 'aufs' };
  if (!base.startsWith(WHITEOUT)) return { role: 'file', parts };
  const name = base.slice(WHITEOUT.length);
  if (name === '' || name === '.' || name === '..') return { refused: `whiteout of ${JSON.stringify(name)}, which names no file` };
  return { role: 'whiteout', parts: [...dir, name] };
}

/** `/etc/x`, as the result and the messages give paths inside the image. */
export const imagePath = (parts: string[]) => `/${parts.join('/')}`;
