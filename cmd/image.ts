import { MinipodError } from '../lib/errors.ts';
import type { Globals } from './globals.ts';
import { humanSize } from '../lib/status/table.ts';
import { openImageStore } from '../lib/image/open.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Image management beyond pull, load, images and rmi. 'image prune' removes
what podman's does: images without a name that no pod uses, and every blob
and unpacked layer no image, no pod and no pull in progress refers to (what
an interrupted pull left included).`;
export const usage = 'minipod [--images DIR] image prune';
export const options = {} as const;

export async function run({ positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [sub, ...extra] = positionals;
  if (sub !== 'prune' || extra.length) throw new MinipodError(`usage: ${usage}`);
  const result = await (await openImageStore(globals.images)).prune();
  for (const id of result.images) process.stdout.write(`Deleted: ${id}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(result.reclaimed.bytes)}\n`);
  return 0;
}
