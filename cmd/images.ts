import { MinipodError } from '../lib/errors.ts';
import { familiarName, parseReference } from '../lib/image/reference.ts';
import type { ImageRecord } from '../lib/image/store.ts';
import { columns } from '../lib/status/table.ts';
import type { Globals } from './globals.ts';
import { openImageStore } from './images-common.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Lists the images in the store, newest first, as 'docker images' does:
repository, tag, image ID (the config's digest), when it was created, and
its size unpacked. An image without a name (its tag moved to a newer pull)
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
  const id = (r: ImageRecord) => (values['no-trunc'] ? r.id : r.id.replace(/^sha256:/, '').slice(0, 12));
  if (values.output === 'json') {
    process.stdout.write(`${JSON.stringify(images.map(({ layers: _, ...r }) => r), null, 2)}\n`);
  } else if (values.quiet) {
    for (const r of new Set(images.map(id))) process.stdout.write(`${r}\n`);
  } else {
    const now = Date.now();
    const rows = images.flatMap((r) => (r.names.length ? r.names : [null]).map((name) => {
      const [repository, tag] = name ? splitName(name) : ['<none>', '<none>'];
      return [repository, tag, id(r), r.created ? ago(now - Date.parse(r.created)) : '', humanSize(r.size)];
    }));
    process.stdout.write(`${columns([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]).join('\n')}\n`);
  }
  return 0;
}

/** docker's columns: the familiar repository, and the tag (or the digest of a name pulled by digest). */
function splitName(name: string): [string, string] {
  const ref = parseReference(name);
  const repository = familiarName({ domain: ref.domain, path: ref.path });
  return [repository, ref.tag ?? ref.digest ?? '<none>'];
}

/** go-units' HumanDuration, as `docker images` prints CREATED. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return plural(s, 'second');
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute ago';
  if (m < 60) return plural(m, 'minute');
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour ago';
  if (h < 48) return plural(h, 'hour');
  if (h < 24 * 7 * 2) return plural(Math.floor(h / 24), 'day');
  if (h < 24 * 30 * 2) return plural(Math.floor(h / 24 / 7), 'week');
  if (h < 24 * 365 * 2) return plural(Math.floor(h / 24 / 30), 'month');
  return plural(Math.floor(h / 24 / 365), 'year');
}

/** go-units' HumanSizeWithPrecision(size, 3): decimal units, as docker prints SIZE. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}
