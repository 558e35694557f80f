import { createReadStream } from 'node:fs';
import { loadArchive } from '../lib/image/archive.ts';
import { familiarName, parseReference } from '../lib/image/reference.ts';
import { MinipodError, wrapError } from '../lib/errors.ts';
import type { Globals } from './globals.ts';
import { openImageStore } from '../lib/image/open.ts';
import { IMAGE_PULL_OPTIONS, pullSettings } from './images-common.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Loads the images of a 'docker save' tarball or an OCI image archive (a
layout as a tar, as 'skopeo copy ... oci-archive:' writes), gzipped or not,
from FILE or standard input, into the image store: each blob checked, each
layer unpacked once. Names come from the archive (RepoTags; an OCI index's
io.containerd.image.name or a full org.opencontainers.image.ref.name).`;
export const usage = 'minipod [--images DIR] load [-i FILE] [--platform OS/ARCH[/VARIANT]] [--max-unpacked-size SIZE] [-q]';
export const options = {
  input: { type: 'string', short: 'i' },
  platform: IMAGE_PULL_OPTIONS.platform,
  'max-unpacked-size': IMAGE_PULL_OPTIONS['max-unpacked-size'],
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  if (positionals.length) throw new MinipodError(`usage: ${usage}`);
  const { platform, maxUnpackedSize } = pullSettings(values);
  const file = typeof values.input === 'string' ? values.input : null;
  if (file === null && process.stdin.isTTY) throw new MinipodError('load: give an archive with -i FILE or on standard input');
  const input = file === null ? process.stdin : createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    if (file === null) return resolve();
    input.once('open', () => resolve()).once('error', (err: Error) => reject(wrapError(`load: ${file}`, err)));
  });
  await opened;
  const store = await openImageStore(globals.images);
  const loaded = await loadArchive(store, input, { platform, maxUnpackedSize });
  for (const image of loaded) {
    if (values.quiet) process.stdout.write(`${image.id}\n`);
    else if (image.names.length === 0) process.stdout.write(`Loaded image ID: ${image.id}\n`);
    else for (const name of image.names) process.stdout.write(`Loaded image: ${familiarName(parseReference(name))}\n`);
  }
  return 0;
}
