// Test images written by hand as an OCI image layout (oci-layout,
// index.json, blobs/sha256/), which skopeo pushes to a registry and packs
// into archives. Everything is deterministic (fixed mtimes, entries in the
// order given, JSON without whitespace), so an image's digests are the same
// every time it is built with the same gzip and zstd.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { decompress as unzstd } from 'fzstd';
import { tarArchive, type TarEntry, type TarHeader } from './tar-writer.ts';

/** 2024-01-01T00:00:00Z: every entry's and the config's time unless a spec says otherwise. */
export const FIXED_MTIME = 1704067200;
export const FIXED_CREATED = new Date(FIXED_MTIME * 1000).toISOString().replace('.000Z', 'Z');
export const REF_NAME = 'org.opencontainers.image.ref.name';

export type Compression = 'none' | 'gzip' | 'zstd';
export type MediaTypes = 'oci' | 'docker';

interface Attrs {
  /** Relative to the layer's root; a leading `/` is dropped. */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** Written as PAX `SCHILY.xattr.NAME` records, as Docker and containerd write them. */
  xattrs?: Record<string, string | Uint8Array>;
  longNames?: 'pax' | 'gnu';
}

export type Entry =
  | (Attrs & { type: 'file'; content: string | Uint8Array })
  | (Attrs & { type: 'dir' })
  | (Attrs & { type: 'symlink'; target: string })
  | (Attrs & { type: 'hardlink'; target: string })
  | (Attrs & { type: 'char' | 'block'; major: number; minor: number })
  | (Attrs & { type: 'fifo' })
  /** Deletes PATH of the layers below: an empty `DIR/.wh.NAME`. */
  | { type: 'whiteout'; path: string }
  /** Hides what the layers below have under the directory PATH: an empty `PATH/.wh..wh..opq`. */
  | { type: 'opaque'; path: string }
  /** A header exactly as given, for layers no well-behaved tool writes. */
  | { type: 'raw'; header: TarHeader; body?: Uint8Array };

export interface LayerSpec {
  entries: Entry[];
  /** gzip unless said. */
  compression?: Compression;
}

/** The image config fields minipod reads (the `config` object of an OCI image config). */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  StopSignal?: string;
  Labels?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: ImageConfig;
  created?: string;
  /** This machine's, unless said. */
  platform?: Platform;
  /** OCI's media types unless said; `docker` writes a Docker schema 2 manifest (no zstd there). */
  mediaTypes?: MediaTypes;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuiltLayer extends Descriptor {
  compression: Compression;
  /** The digest of the uncompressed tar, as the config's rootfs.diff_ids lists it. */
  diffID: string;
  tarSize: number;
}

export interface BuiltImage {
  layoutDir: string;
  /** The `org.opencontainers.image.ref.name` of its entry in index.json (empty when it is part of an index). */
  ref: string;
  manifest: Descriptor;
  config: Descriptor;
  /** The config as written. */
  configJson: Record<string, unknown>;
  layers: BuiltLayer[];
  platform: Platform;
}

export interface BuiltIndex {
  layoutDir: string;
  ref: string;
  index: Descriptor;
  images: BuiltImage[];
}

const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' },
};
const DOCKER = {
  index: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: { none: 'application/vnd.docker.image.rootfs.diff.tar', gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip', zstd: '' },
};

export function hostPlatform(): Platform {
  if (process.arch === 'arm64') return { os: 'linux', architecture: 'arm64', variant: 'v8' };
  if (process.arch === 'x64') return { os: 'linux', architecture: 'amd64' };
  throw new Error(`test images: no OCI platform for this machine's ${process.arch}`);
}

/** The tar of one layer, uncompressed. */
export function layerTar(layer: LayerSpec): Buffer {
  return tarArchive(layer.entries.map(tarEntry));
}

/**
 * Writes the image's blobs into the layout at `dir` (a fresh temp dir when
 * not given: the caller removes it) and lists its manifest in index.json
 * under `ref` (replacing an entry of the same ref).
 */
export async function buildImage(spec: ImageSpec, opts: { dir?: string; ref?: string } = {}): Promise<BuiltImage> {
  const layoutDir = opts.dir ?? mkdtempSync(join(tmpdir(), 'minipod-image-'));
  initLayout(layoutDir);
  const image = await writeImage(layoutDir, spec);
  const ref = opts.ref ?? 'latest';
  addToIndexJson(layoutDir, image.manifest, ref);
  return { ...image, ref };
}

/** An image index (a Docker manifest list with `docker`) of one manifest per spec, each with its spec's platform. */
export async function buildIndex(specs: ImageSpec[], opts: { dir?: string; ref?: string; mediaTypes?: MediaTypes } = {}): Promise<BuiltIndex> {
  const layoutDir = opts.dir ?? mkdtempSync(join(tmpdir(), 'minipod-index-'));
  initLayout(layoutDir);
  const types = opts.mediaTypes === 'docker' ? DOCKER : OCI;
  const images: BuiltImage[] = [];
  for (const spec of specs) images.push({ ...(await writeImage(layoutDir, { ...spec, mediaTypes: opts.mediaTypes })), ref: '' });
  const index = writeJsonBlob(layoutDir, types.index, {
    schemaVersion: 2,
    mediaType: types.index,
    manifests: images.map((i) => ({ ...i.manifest, platform: i.platform })),
  });
  const ref = opts.ref ?? 'latest';
  addToIndexJson(layoutDir, index, ref);
  return { layoutDir, ref, index, images };
}

/** A layout blob's bytes. */
export function readBlob(layoutDir: string, digest: string): Buffer {
  return readFileSync(join(layoutDir, 'blobs', ...digest.split(':')));
}

/** A layer's tar, decompressed from its blob. */
export async function readLayerTar(layoutDir: string, layer: BuiltLayer): Promise<Buffer> {
  const blob = readBlob(layoutDir, layer.digest);
  if (layer.compression === 'gzip') return promisify(gunzip)(blob);
  if (layer.compression === 'zstd') return Buffer.from(unzstd(blob));
  return blob;
}

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function writeImage(layoutDir: string, spec: ImageSpec): Promise<Omit<BuiltImage, 'ref'>> {
  const types = spec.mediaTypes === 'docker' ? DOCKER : OCI;
  const platform = spec.platform ?? hostPlatform();
  const created = spec.created ?? FIXED_CREATED;
  const layers = await Promise.all(spec.layers.map(async (layer): Promise<BuiltLayer> => {
    const compression = layer.compression ?? 'gzip';
    const mediaType = types.layer[compression];
    if (!mediaType) throw new Error(`test images: Docker schema 2 has no media type for ${compression} layers`);
    const tar = layerTar(layer);
    const blob = writeBlob(layoutDir, mediaType, await compress(tar, compression));
    return { ...blob, compression, diffID: sha256(tar), tarSize: tar.length };
  }));
  const configJson: Record<string, unknown> = {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
    history: layers.map((_, i) => ({ created, created_by: `minipod test layer ${i + 1}` })),
  };
  const config = writeJsonBlob(layoutDir, types.config, configJson);
  const manifest = writeJsonBlob(layoutDir, types.manifest, {
    schemaVersion: 2,
    mediaType: types.manifest,
    config,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  return { layoutDir, manifest, config, configJson, layers, platform };
}

function tarEntry(entry: Entry): TarEntry {
  if (entry.type === 'raw') return { header: entry.header, body: entry.body };
  const name = entry.path.replace(/^\/+/, '');
  if (entry.type === 'whiteout') return emptyFile(posix.join(posix.dirname(name), `.wh.${posix.basename(name)}`));
  if (entry.type === 'opaque') return emptyFile(posix.join(name, '.wh..wh..opq'));
  const header: TarHeader = {
    name,
    type: 'file',
    mode: entry.mode ?? 0o644,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? FIXED_MTIME,
    longNames: entry.longNames,
    pax: Object.fromEntries(Object.entries(entry.xattrs ?? {}).map(([k, v]) => [`SCHILY.xattr.${k}`, v])),
  };
  switch (entry.type) {
    case 'file':
      return { header, body: typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content };
    case 'dir':
      return { header: { ...header, type: 'directory', mode: entry.mode ?? 0o755 } };
    case 'symlink':
      return { header: { ...header, type: 'symlink', mode: entry.mode ?? 0o777, linkname: entry.target } };
    case 'hardlink':
      return { header: { ...header, type: 'link', linkname: entry.target.replace(/^\/+/, '') } };
    case 'char':
    case 'block':
      return { header: { ...header, type: entry.type, mode: entry.mode ?? 0o666, devmajor: entry.major, devminor: entry.minor } };
    case 'fifo':
      return { header: { ...header, type: 'fifo' } };
  }
}

function emptyFile(name: string): TarEntry {
  return { header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: FIXED_MTIME } };
}

async function compress(tar: Buffer, compression: Compression): Promise<Buffer> {
  if (compression === 'gzip') return promisify(gzip)(tar);
  if (compression === 'zstd') return zstdCli(tar);
  return tar;
}

/** Node 20's zlib has no zstd compressor (fzstd only decompresses): the `zstd` CLI does it. */
function zstdCli(input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('zstd', ['-q', '-c', '-3'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new Error(`zstd: ${e.message} (install Debian's zstd)`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`zstd exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.end(input);
  });
}

function initLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

function writeBlob(layoutDir: string, mediaType: string, data: Buffer): Descriptor {
  const digest = sha256(data);
  const path = join(layoutDir, 'blobs', ...digest.split(':'));
  if (!existsSync(path)) writeFileSync(path, data);
  return { mediaType, digest, size: data.length };
}

function writeJsonBlob(layoutDir: string, mediaType: string, value: unknown): Descriptor {
  return writeBlob(layoutDir, mediaType, Buffer.from(JSON.stringify(value)));
}

function addToIndexJson(layoutDir: string, manifest: Descriptor, ref: string): void {
  const path = join(layoutDir, 'index.json');
  const index = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { schemaVersion: 2, mediaType: OCI.index, manifests: [] };
  index.manifests = index.manifests.filter((m: { annotations?: Record<string, string> }) => m.annotations?.[REF_NAME] !== ref);
  index.manifests.push({ ...manifest, annotations: { [REF_NAME]: ref } });
  writeFileSync(path, JSON.stringify(index));
}
