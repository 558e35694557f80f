import { parseReference } from '../lib/image/reference.ts';
import { pullImage } from '../lib/image/pull.ts';
import { pullProgress, quietProgress } from '../lib/image/progress.ts';
import { MinipodError } from '../lib/errors.ts';
import type { Globals } from './globals.ts';
import { openImageStore } from '../lib/image/open.ts';
import { IMAGE_PULL_OPTIONS, pullSettings } from './images-common.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Pulls an image from a registry that speaks the OCI distribution API (Docker
Hub, ghcr.io, quay.io, a registry:2 of your own) into the image store, as
containerd does: REF is normalised (redis is docker.io/library/redis:latest),
an index gives this machine's platform (--platform another), every blob is
checked against its digest and size while it streams, and each layer is
unpacked once, shared by every image that has it. Credentials come from
$REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or
~/.docker/config.json; plain HTTP only for a registry on loopback, or with
--tls-verify=false. Prints the image ID.`;
export const usage = 'minipod [--images DIR] pull [--platform OS/ARCH[/VARIANT]] [--tls-verify=false] [--max-unpacked-size SIZE] [-q] REF';
export const options = {
  ...IMAGE_PULL_OPTIONS,
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, ...extra] = positionals;
  if (!ref || extra.length) throw new MinipodError(`usage: ${usage}`);
  const settings = pullSettings(values);
  const store = await openImageStore(globals.images);
  const image = await pullImage(store, parseReference(ref), {
    ...settings,
    progress: values.quiet ? quietProgress : pullProgress(process.stderr),
  });
  process.stdout.write(`${image.id}\n`);
  return 0;
}
