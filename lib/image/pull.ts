// `minipod pull`, and the pulls `run` makes: containerd's order of things.
// Resolve the reference to this platform's manifest, keep the manifest,
// index and config, then fetch the layers not already unpacked (each blob
// checked against its digest and size as it streams, before it is kept) and
// unpack each once; only then does the name point at the image. A pull cut
// short anywhere leaves blobs that are whole or nothing, and no name: the
// next pull finds what is whole and fetches the rest.
import { wrapError } from '../errors.ts';
import { RegistryClient, RegistryError } from '../registry/client.ts';
import type { Env } from '../registry/credentials.ts';
import type { Descriptor } from './manifest.ts';
import type { Platform } from './platform.ts';
import type { PullProgress } from './progress.ts';
import { canonicalName, type Reference } from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';
import { consumeTogether } from './tee.ts';

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
        try {
          await pullLayer(client, store, { ...layer, diffID: layers[i]!.diffID }, opts);
        } catch (err) {
          // The registry's errors already say which pull they are of.
          throw err instanceof RegistryError ? err : wrapError(`pull ${canonicalName(ref)}`, err);
        }
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

/**
 * One layer made present: its blob kept and its snapshot unpacked, each
 * unless it already is. The same layer unpacked from another blob (loaded
 * uncompressed, now pulled gzipped) still needs this image's blob.
 */
async function pullLayer(client: RegistryClient, store: ImageStore, layer: Descriptor & { diffID: string }, opts: PullOptions): Promise<void> {
  const progress = opts.progress.layer(layer.digest, layer.size);
  const [unpacked, fetched] = [store.snapshots.has(layer.diffID), store.content.hasBlob(layer.digest)];
  if (unpacked && fetched) return progress.done(true);
  const unpack = (source?: AsyncIterable<Uint8Array>) =>
    store.snapshots.ensure({ digest: layer.digest, mediaType: layer.mediaType, diffID: layer.diffID }, { maxUnpackedSize: opts.maxUnpackedSize }, source);
  if (fetched) {
    await unpack();
    return progress.done();
  }
  const { body } = await client.blob(layer);
  const keep = (copy: AsyncIterable<Uint8Array>) => store.content.ingest({ digest: layer.digest, size: layer.size }, copy, progress.add);
  if (unpacked) {
    await keep(body);
    return progress.done();
  }
  // Unpacked as it arrives, rather than read back once stored: the download and the unpacking overlap.
  const [kept, made] = await consumeTogether(body, keep, unpack);
  // Bytes other than the blob's (a registry that lies, a connection cut short) explain a failed unpack too.
  if (kept.status === 'rejected') throw kept.reason;
  if (made.status === 'rejected') throw made.reason;
  progress.done();
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
