// Images built by the tests themselves: layer tars (tar-stream), their
// blobs, configs and manifests in a store; a stand-in for the real layer
// unpacker (lib/image/unpack.ts) that extracts only files and directories.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import type { ImageStore } from '../../lib/image/store.ts';
import type { LayerInfo, Unpacker } from '../../lib/image/snapshots.ts';
import { tarEntries } from '../../lib/image/tar-entries.ts';
import { isDeno } from '../../lib/sys/host.ts';

export const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export type TarEntry = { name: string; body?: string | Buffer; type?: tar.Header['type']; linkname?: string; size?: number };

/** A tar of `entries` (files unless a type says otherwise); a string is a file of that name holding its own name. */
export async function tarOf(entries: (TarEntry | string)[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const entry = typeof e === 'string' ? { name: e, body: `${e}\n` } : e;
    const body = entry.body === undefined ? undefined : Buffer.from(entry.body);
    await new Promise<void>((resolve, reject) => {
      const header: Partial<tar.Header> & { name: string } = { name: entry.name, type: entry.type ?? 'file', mode: entry.type === 'directory' ? 0o755 : 0o644, mtime: new Date(0) };
      if (entry.linkname !== undefined) header.linkname = entry.linkname;
      if (entry.size !== undefined) header.size = entry.size;
      pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function* chunksOf(bytes: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A base layer test images share: the same tar bytes in every process (mtime 0). */
export const BASE_ENTRIES = ['bin/sh', 'etc/passwd', 'etc/group'];

export interface TestLayer {
  /** The uncompressed tar. */
  tar: Buffer;
  /** The blob: the tar, gzipped or not. */
  blob: Buffer;
  digest: string;
  diffID: string;
  mediaType: string;
}

export async function layerOf(entries: (TarEntry | string)[], opts: { gzip?: boolean } = {}): Promise<TestLayer> {
  const t = await tarOf(entries);
  const blob = opts.gzip ? gzipSync(t) : t;
  return {
    tar: t,
    blob,
    digest: sha256(blob),
    diffID: sha256(t),
    mediaType: opts.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
  };
}

export interface TestImage {
  layers: TestLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

/** An OCI image of `layers`, its config saying `config` (merged into a default) and `created`. */
export function imageOf(layers: TestLayer[], opts: { config?: Record<string, unknown>; created?: string; diffIDs?: string[]; architecture?: string } = {}): TestImage {
  const config = Buffer.from(JSON.stringify({
    ...(opts.created ? { created: opts.created } : {}),
    architecture: opts.architecture ?? 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'], ...opts.config },
    rootfs: { type: 'layers', diff_ids: opts.diffIDs ?? layers.map((l) => l.diffID) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  }));
  return { layers, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

/** Every blob of `image` into the store, its layers unpacked: ready to commit. */
export async function putImage(store: ImageStore, image: TestImage): Promise<void> {
  for (const blob of [image.manifest, image.config, ...image.layers.map((l) => l.blob)]) {
    await store.content.ingest({ digest: sha256(blob), size: blob.length }, chunksOf(blob));
  }
  await store.ensureLayers(image.manifestDigest, { maxUnpackedSize: 1 << 30 });
}

/**
 * The real unpacker's stand-in: regular files and directories extracted,
 * `.wh.` names reported (not made: no devices without root), the diff ID
 * hashed from the uncompressed stream. Refuses `..` only; it is not a
 * defence against hostile layers, only what these tests need.
 */
export const testUnpack: Unpacker = async (blob, mediaType, dest, opts): Promise<LayerInfo> => {
  const hash = createHash('sha256');
  const source = Readable.from(blob);
  const tarStream = mediaType.endsWith('gzip') ? source.pipe(createGunzip()) : source;
  const info: LayerInfo = { diffID: '', size: 0, opaque: [], whiteouts: [] };
  const hashed = (async function* () {
    for await (const chunk of tarStream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  })();
  for await (const entry of tarEntries(hashed, () => 'test unpacker: not a tar')) {
    const name = entry.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    if (name.split('/').includes('..')) throw new Error(`test unpacker: entry ${name} leaves the layer`);
    const base = name.split('/').pop()!;
    const path = join(dest, name);
    if (base === '.wh..wh..opq') info.opaque.push(`/${dirname(name)}`.replace(/\/\.$/, '/'));
    else if (base.startsWith('.wh.')) info.whiteouts.push(`/${join(dirname(name), base.slice(4))}`);
    else if (entry.type === 'directory') mkdirSync(path, { recursive: true });
    else if (entry.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of entry.body) chunks.push(Buffer.from(c));
      info.size += entry.size;
      if (info.size > opts.maxUnpackedSize) throw new Error(`test unpacker: more than ${opts.maxUnpackedSize} bytes`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, Buffer.concat(chunks));
    }
  }
  info.diffID = `sha256:${hash.digest('hex')}`;
  return info;
};

/** A TypeScript file run as a child on the runtime running the tests. */
export function scriptCommand(script: string): [string, string[]] {
  return isDeno ? [process.execPath, ['run', '-A', script]] : [process.execPath, ['--import', 'tsx', script]];
}
