import { MinipodError } from '../lib/errors.ts';
import { familiarName, parseReference } from '../lib/image/reference.ts';
import type { Globals } from './globals.ts';
import { openImageStore } from '../lib/image/open.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Removes images from the store, as 'docker rmi' does: REF (a name, an image ID
or its prefix, a digest) is untagged; an image left without a name is
deleted, with every blob and layer no other image uses. An image a pod
uses is refused; -f untags it all the same, and it is deleted once its
pods are gone ('minipod image prune').`;
export const usage = 'minipod [--images DIR] rmi [-f] REF...';
export const options = {
  force: { type: 'boolean', short: 'f' },
} as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  if (positionals.length === 0) throw new MinipodError(`usage: ${usage}`);
  const store = await openImageStore(globals.images);
  for (const ref of positionals) {
    const result = await store.remove(ref, { force: values.force === true });
    for (const name of result.untagged) process.stdout.write(`Untagged: ${familiarName(parseReference(name))}\n`);
    for (const id of result.deleted) process.stdout.write(`Deleted: ${id}\n`);
  }
  return 0;
}
