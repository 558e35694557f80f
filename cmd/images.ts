import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError } from '../lib/errors.ts';
import { familiarName, parseReference } from '../lib/image/reference.ts';
import type { ImageRecord } from '../lib/image/store.ts';
import { ago, columns, humanSize } from '../lib/status/table.ts';
import type { Globals } from './globals.ts';
import { openImageStore } from '../lib/image/open.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Lists the images in the store, newest first, as 'docker images' does:
repository, tag, image ID (the config's digest), when it was created, and
its size unpacked; then the directory images (<images>/NAME/rootfs, such as
the busybox one 'make' builds), which are local and have no ID. An image without a name (its tag moved to a newer pull)
shows as <none>; 'minipod image prune' removes those. -q prints only IDs.`;
export const usage = 'minipod [--images DIR] images [-q] [--no-trunc] [-o json]';
export const options = {
  quiet: { type: 'boolean', short: 'q' },
  'no-trunc': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  if (positionals.length) throw new MinipodError(`usage: ${usage}`);
  if (values.output !== undefined && values.output !== 'json') {
    throw new MinipodError(`--output: Unsupported value: ${JSON.stringify(values.output)}: supported values: "json"`);
  }
  const images = (await openImageStore(globals.images)).list();
  const directories = directoryImages(globals.images);
  const id = (r: ImageRecord) => (values['no-trunc'] ? r.id : r.id.replace(/^sha256:/, '').slice(0, 12));
  if (values.output === 'json') {
    const local = directories.map((d) => ({ names: [`${d.name}:${d.tag}`], id: '', created: new Date(d.mtimeMs).toISOString(), size: d.size, rootfs: d.rootfs }));
    process.stdout.write(`${JSON.stringify([...images.map(({ layers: _, ...r }) => r), ...local], null, 2)}\n`);
  } else if (values.quiet) {
    for (const r of new Set(images.map(id))) process.stdout.write(`${r}\n`);
  } else {
    const now = Date.now();
    const rows = images.flatMap((r) => (r.names.length ? r.names : [null]).map((name) => {
      const [repository, tag] = name ? splitName(name) : ['<none>', '<none>'];
      return [repository, tag, id(r), r.created ? ago(now - Date.parse(r.created)) : '', humanSize(r.size)];
    }));
    // What `make` builds, and any other rootfs directory in the store: local, with no ID to show.
    for (const d of directories) rows.push([d.name, d.tag, '<directory>', ago(now - d.mtimeMs), humanSize(d.size)]);
    process.stdout.write(`${columns([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]).join('\n')}\n`);
  }
  return 0;
}

interface DirectoryImage {
  name: string;
  tag: string;
  rootfs: string;
  mtimeMs: number;
  size: number;
}

/** `<images>/NAME/rootfs` and `<images>/A/B/rootfs` (a name with a path), as resolveImage finds them. */
function directoryImages(dir: string): DirectoryImage[] {
  const found: DirectoryImage[] = [];
  const visit = (rel: string, depth: number) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (!entry.isDirectory() || (depth === 0 && STORE_DIRS.has(entry.name))) continue;
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      const rootfs = join(dir, name, 'rootfs');
      const stat = statSync(rootfs, { throwIfNoEntry: false });
      if (stat?.isDirectory()) {
        const [repository = name, tag = 'latest'] = name.split(':');
        found.push({ name: repository, tag, rootfs, mtimeMs: stat.mtimeMs, size: treeSize(rootfs) });
      } else if (depth < 2) {
        visit(name, depth + 1);
      }
    }
  };
  if (existsSync(dir)) visit('', 0);
  return found;
}

/** The store's own directories (lib/image/store.ts), which hold no directory image. */
const STORE_DIRS = new Set(['blobs', 'ingest', 'snapshots', 'leases']);

function treeSize(path: string): number {
  let bytes = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += lstatSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

/** docker's columns: the familiar repository, and the tag (or the digest of a name pulled by digest). */
function splitName(name: string): [string, string] {
  const ref = parseReference(name);
  const repository = familiarName({ domain: ref.domain, path: ref.path });
  return [repository, ref.tag ?? ref.digest ?? '<none>'];
}
