// `minipod pull`, and the pulls `run` makes: containerd's order of things.
// Resolve the reference to this platform's manifest, keep the manifest,
// index and config, then fetch the layers not already unpacked (each blob
// checked against its digest and size as it streams, before it is kept) and
// unpack each once; only then does the name point at the image. A pull cut
// short anywhere leaves blobs that are whole or nothing, and no name: the
// next pull finds what is whole and fetches the rest.
import { RegistryClient } from '../registry/client.ts';
import type { Descriptor } from '../registry/manifest.ts';
import type { Env } from '../registry/credentials.ts';
import type { Platform } from './platform.ts';
import type { PullProgress } from './progress.ts';
import { canonicalName, type Reference } from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';

export interface PullOptions {
  platform: Platform;
  /** false: any registry over HTTPS without certificate checks, or plain HTTP (podman's --tls-verify=false). */
  tlsVerify: boolean;
  /** Where credentials and CA files are found. */
  env: Env;
  maxUnpackedSize: number;
  progress: PullProgress;
}

/** containerd fetches three layers at a time by default (max_concurrent_downloads). */
const CONCURRENT_LAYERS = 3;

export async function pullImage(store: ImageStore, ref: Reference, opts: PullOptions): Promise<ImageRecord> {
  const client = new RegistryClient(ref, { tlsVerify: opts.tlsVerify, platform: opts.platform, env: opts.env });
  try {
    const image = await client.resolve();
    return await store.withHold(async (protect) => {
      const documents = [image.manifest.bytes, image.configBytes, ...(image.index ? [image.index.bytes] : [])];
      await protect([image.manifest.digest, image.config.digest, ...(image.index ? [image.index.digest] : []), ...image.layers.map((l) => l.digest)]);
      for (const bytes of documents) store.content.writeBlob(bytes);
      const { layers } = store.parts(image.manifest.digest);
      await protect(layers.map((l) => l.diffID));
      await eachLimited(image.layers, CONCURRENT_LAYERS, async (layer, i) => {
        const { diffID } = layers[i]!;
        const progress = opts.progress.layer(layer.digest, layer.size);
        if (store.snapshots.has(diffID)) return progress.done(true);
        if (!store.content.hasBlob(layer.digest)) await fetchBlob(client, store, layer, progress.add);
        await store.snapshots.ensure({ digest: layer.digest, mediaType: layer.mediaType, diffID }, { maxUnpackedSize: opts.maxUnpackedSize });
        progress.done();
      });
      return store.commitImage({
        names: [canonicalName(ref)],
        manifestDigest: image.manifest.digest,
        ...(image.index ? { indexDigest: image.index.digest } : {}),
      });
    });
  } finally {
    opts.progress.close();
    client.close();
  }
}

async function fetchBlob(client: RegistryClient, store: ImageStore, layer: Descriptor, onBytes: (n: number) => void): Promise<void> {
  const { body } = await client.blob(layer);
  await store.content.ingest({ digest: layer.digest, size: layer.size }, body, onBytes);
}

/** `fn` over `items`, at most `limit` at once; the first failure is thrown once all have settled. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}
