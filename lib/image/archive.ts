// `minipod load`: a `docker save` tarball or an OCI image layout archive,
// told apart by what it holds (containerd's importer does the same, and
// prefers the OCI layout when an archive has both, as docker 25's do).
// Nothing is extracted to disk: each regular file of the archive streams
// into the content store, verified against its name when the name is a
// digest (blobs/sha256/<hex>), stored under the digest it has otherwise; the
// archive's own names are only keys to find those blobs again, so no entry
// name or link, however hostile, can write anywhere.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { posix } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';
import type { BlobDescriptor } from './content.ts';
import { sniff } from './decompress.ts';
import { sha256, shortDigest } from './digest.ts';
import { normalizeName } from './reference.ts';
import { isManifestType, MEDIA_TYPES, parseIndex } from './manifest.ts';
import { chooseManifest, formatPlatform, hostPlatform, type Platform } from './platform.ts';
import type { ImageStore } from './store.ts';
import { type TarEntry, tarEntries } from './tar-entries.ts';

export interface LoadOptions {
  /** Passed to the layer unpacker: a decompression bomb stops there. */
  maxUnpackedSize: number;
  /** An archive entry larger than this is refused (default 16 GiB). */
  maxEntrySize?: number;
  /** The platform to take from an index (default: this machine's). */
  platform?: Platform;
}

export interface LoadedImage {
  names: string[];
  manifestDigest: string;
  id: string;
}

const DEFAULT_MAX_ENTRY = 16 * 1024 ** 3;
/** manifest.json, index.json, oci-layout, repositories: containerd reads at most 20 MiB of these. */
const MAX_METADATA = 16 * 1024 ** 2;
const METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const OCI_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;
/** The names the archive gives its images. */
const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

interface Images {
  names: string[];
  manifestDigest: string;
  indexDigest?: string;
}

/** What the archive held: its blobs and links by name, its metadata files. */
class ArchiveIndex {
  readonly blobs = new Map<string, BlobDescriptor>();
  readonly links = new Map<string, string>();
  readonly metadata = new Map<string, Buffer>();

  /** The blob an archive name designates, through symlinks and hard links within the archive. */
  blob(name: string): BlobDescriptor | undefined {
    for (let hops = 0; hops <= 40; hops++) {
      const blob = this.blobs.get(name);
      if (blob) return blob;
      const next = this.links.get(name);
      if (next === undefined) return undefined;
      name = next;
    }
    return undefined;
  }
}

/**
 * Import every image of the archive `input` (possibly gzipped) into the
 * store and name it; returns them in the archive's order. What the archive
 * held besides (a docker save's per-layer `json` and `VERSION` files) is
 * collected once the images are committed.
 */
export async function loadArchive(store: ImageStore, input: AsyncIterable<Uint8Array>, opts: LoadOptions): Promise<LoadedImage[]> {
  let loaded: LoadedImage[];
  try {
    loaded = await load(store, input, opts);
  } catch (err) {
    // What a failed load stored goes too; its own error is the one to report.
    await store.collectGarbage().catch(() => {});
    throw err;
  }
  await store.collectGarbage();
  return loaded;
}

function load(store: ImageStore, input: AsyncIterable<Uint8Array>, opts: LoadOptions): Promise<LoadedImage[]> {
  return store.withHold(async (protect) => {
    const archive = await readArchive(store, gunzipped(input), opts.maxEntrySize ?? DEFAULT_MAX_ENTRY, protect);
    const images = archive.metadata.has('oci-layout') || archive.metadata.has('index.json')
      ? ociImages(store, archive, opts.platform ?? hostPlatform())
      : archive.metadata.has('manifest.json')
        ? await dockerImages(store, archive, protect)
        : null;
    if (!images) throw new MinipodError('load: neither a docker save archive (no manifest.json) nor an OCI archive (no oci-layout, index.json)');
    const loaded: LoadedImage[] = [];
    for (const image of merged(images)) {
      const what = `load: image ${shortDigest(image.manifestDigest)}`;
      try {
        const parts = store.parts(image.manifestDigest);
        await protect(parts.layers.map((l) => l.diffID));
        await store.ensureLayers(image.manifestDigest, { maxUnpackedSize: opts.maxUnpackedSize });
        const record = await store.commitImage(image);
        loaded.push({ names: image.names, manifestDigest: image.manifestDigest, id: record.id });
      } catch (err) {
        throw wrapError(what, err);
      }
    }
    return loaded;
  });
}

async function readArchive(
  store: ImageStore,
  input: AsyncIterable<Uint8Array>,
  maxEntry: number,
  protect: (digests: string[]) => Promise<void>,
): Promise<ArchiveIndex> {
  const archive = new ArchiveIndex();
  const entries = tarEntries(input, () => 'the input is not a docker save or OCI archive (not a tar)');
  try {
    for (;;) {
      let next: IteratorResult<TarEntry>;
      try {
        next = await entries.next();
      } catch (err) {
        throw wrapError('load: archive', err);
      }
      if (next.done) break;
      await readEntry(store, archive, next.value, maxEntry, protect);
    }
  } finally {
    // A refused entry stops the reading of the input too.
    await entries.return(undefined);
  }
  return archive;
}

/** One member of the archive: a blob stored, a link or a metadata file noted, anything else skipped. */
async function readEntry(
  store: ImageStore,
  archive: ArchiveIndex,
  entry: TarEntry,
  maxEntry: number,
  protect: (digests: string[]) => Promise<void>,
): Promise<void> {
  const name = archiveName(entry.name);
  if (name === null) throw new MinipodError(`load: archive entry "${entry.name}" is not a relative path inside the archive`);
  const what = `load: archive entry "${entry.name}"`;
  try {
    if (entry.type === 'symlink') {
      const target = linkTarget(name, entry.linkname);
      if (target !== null) archive.links.set(name, target);
    } else if (entry.type === 'link') {
      const target = archiveName(entry.linkname);
      if (target === null) throw new MinipodError(`a hard link to "${entry.linkname}", which is not a relative path inside the archive`);
      archive.links.set(name, target);
    } else if (entry.type === 'file') {
      if (entry.size > maxEntry) throw new MinipodError(`${entry.size} bytes, more than the ${maxEntry} allowed`);
      const oci = OCI_BLOB.exec(name);
      if (METADATA.has(name)) {
        if (entry.size > MAX_METADATA) throw new MinipodError(`${entry.size} bytes, more than the ${MAX_METADATA} allowed`);
        archive.metadata.set(name, await readAll(entry.body));
      } else if (oci) {
        const desc = { digest: `sha256:${oci[1]}`, size: entry.size };
        await protect([desc.digest]);
        await store.content.ingest(desc, entry.body);
        archive.blobs.set(name, desc);
      } else {
        archive.blobs.set(name, await store.content.ingestComputed(entry.body, maxEntry, 'content', (got) => protect([got.digest])));
      }
    }
    // Directories, devices, fifos: nothing an image archive is made of.
    // Whatever was not read (a blob already present) is drained: the tar
    // stream moves on only once an entry is read to its end.
    await readAll(entry.body, false);
  } catch (err) {
    throw wrapError(what, err);
  }
}

/** An archive member's name, relative and without `.` parts; null for `..` or an absolute name. */
function archiveName(raw: string): string | null {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  return raw.startsWith('/') || parts.includes('..') ? null : parts.join('/');
}

/** Where a symlink in the archive points, as an archive name; null if it points out of the archive. */
function linkTarget(name: string, target: string): string | null {
  if (target.startsWith('/')) return null;
  const joined = posix.normalize(posix.join(posix.dirname(name), target));
  return joined === '..' || joined.startsWith('../') ? null : joined;
}

async function readAll(body: AsyncIterable<Uint8Array>, keep = true): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) if (keep) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function json(archive: ArchiveIndex, name: string): unknown {
  try {
    return JSON.parse(archive.metadata.get(name)!.toString('utf8'));
  } catch (err) {
    throw wrapError(`load: ${name}`, err);
  }
}

/** The images of an OCI layout: index.json's entries, a nested index resolved to this platform's manifest. */
function ociImages(store: ImageStore, archive: ArchiveIndex, platform: Platform): Images[] {
  if (!archive.metadata.has('oci-layout')) throw new MinipodError('load: OCI archive without oci-layout');
  const layout = json(archive, 'oci-layout');
  if (!isObject(layout) || layout.imageLayoutVersion !== '1.0.0') {
    throw new MinipodError('load: oci-layout: imageLayoutVersion must be "1.0.0"');
  }
  if (!archive.metadata.has('index.json')) throw new MinipodError('load: OCI archive without index.json');
  const index = parseIndex(archive.metadata.get('index.json')!, 'load: index.json');
  return index.manifests.map((entry, i) => {
    const names = ociNames(entry.annotations ?? {}, `load: index.json: manifests[${i}]`);
    if (entry.mediaType !== MEDIA_TYPES.ociIndex && entry.mediaType !== MEDIA_TYPES.dockerManifestList) {
      return { names, manifestDigest: entry.digest };
    }
    const nested = parseIndex(store.content.readBlob(entry.digest), `load: index ${shortDigest(entry.digest)}`);
    const picked = chooseManifest(nested.manifests.filter((d) => isManifestType(d.mediaType)), platform);
    if (!picked) throw new MinipodError(`load: index ${shortDigest(entry.digest)} has no manifest for ${formatPlatform(platform)}`);
    return { names, manifestDigest: picked.digest, indexDigest: entry.digest };
  });
}

/**
 * containerd's annotation names the image in full; the OCI one is, by the
 * spec, often a tag alone ("latest"), which names no repository: such an
 * image loads without a name. A full reference there (skopeo writes
 * `busybox:latest` when asked to) is normalised.
 */
function ociNames(annotations: Record<string, string>, what: string): string[] {
  const full = annotations[IMAGE_NAME_ANNOTATION];
  const ref = annotations[REF_NAME_ANNOTATION];
  const name = full ?? (ref !== undefined && /[/:@]/.test(ref) ? ref : undefined);
  if (name === undefined) return [];
  try {
    return [normalizeName(name)];
  } catch (err) {
    throw wrapError(what, err);
  }
}

/**
 * The images of a docker save archive: manifest.json's entries, each given
 * the Docker schema 2 manifest its registry would have served (containerd's
 * importer writes the same), so every image has a manifest digest.
 */
async function dockerImages(store: ImageStore, archive: ArchiveIndex, protect: (digests: string[]) => Promise<void>): Promise<Images[]> {
  const entries = json(archive, 'manifest.json');
  if (!Array.isArray(entries)) throw new MinipodError('load: manifest.json must be an array');
  const images: Images[] = [];
  for (const [i, entry] of entries.entries()) {
    const what = `load: manifest.json[${i}]`;
    if (!isObject(entry) || typeof entry.Config !== 'string' || !isStringArray(entry.Layers) || !(entry.RepoTags == null || isStringArray(entry.RepoTags))) {
      throw new MinipodError(`${what}: must have Config (a string), Layers and RepoTags (arrays of strings)`);
    }
    const find = (name: string, kind: string) => {
      const inside = archiveName(name);
      const blob = inside === null ? undefined : archive.blob(inside);
      if (!blob) throw new MinipodError(`${what}: ${kind} "${name}" is not in the archive`);
      return blob;
    };
    const config = find(entry.Config, 'config');
    const layers = entry.Layers.map((name) => {
      const blob = find(name, 'layer');
      return { mediaType: layerMediaType(store, blob.digest), digest: blob.digest, size: blob.size };
    });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: config.digest, size: config.size },
      layers,
    }));
    await protect([sha256(manifest)]);
    const manifestDigest = store.content.writeBlob(manifest);
    const names = (entry.RepoTags ?? []).map((tag) => {
      try {
        return normalizeName(tag);
      } catch (err) {
        throw wrapError(`${what}: RepoTags`, err);
      }
    });
    images.push({ names, manifestDigest });
  }
  return images;
}

/** A docker save layer is a tar, or (from other tools) a compressed one: its first bytes say which. */
function layerMediaType(store: ImageStore, digest: string): string {
  const compression = sniff(store.content.readBlobHead(digest, 4));
  return compression === 'gzip' ? MEDIA_TYPES.dockerLayerGzip : compression === 'zstd' ? MEDIA_TYPES.ociLayerZstd : MEDIA_TYPES.dockerLayer;
}

/** One entry per manifest, its names gathered: an archive may list an image once per tag. */
function merged(images: Images[]): Images[] {
  const byManifest = new Map<string, Images>();
  for (const image of images) {
    const seen = byManifest.get(image.manifestDigest);
    if (!seen) byManifest.set(image.manifestDigest, { ...image, names: [...image.names] });
    else for (const name of image.names) if (!seen.names.includes(name)) seen.names.push(name);
  }
  return [...byManifest.values()];
}

/** `docker save | gzip` loads as docker load takes it: the gzip magic decides. */
async function* gunzipped(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest = (async function* () {
    try {
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  })();
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) {
    yield* rest;
    return;
  }
  const source = Readable.from(rest);
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  try {
    yield* source.pipe(gunzip);
  } finally {
    source.destroy();
  }
}
