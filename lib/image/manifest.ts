// The JSON documents of an image as the OCI image spec and Docker's schema 2
// write them: manifests, indexes (Docker's manifest lists), image configs.
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray, type Obj } from '../spec/json.ts';
import { digestHex, isDigest } from './digest.ts';
import { type ImageConfig, parseImageConfig } from './image.ts';
import type { Platform } from './platform.ts';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Manifest {
  mediaType: string;
  config: Descriptor;
  /** Bottom first. */
  layers: Descriptor[];
}

export interface Index {
  mediaType: string;
  manifests: Descriptor[];
}

/** An image config blob: the part a container runs with, and what checks the layers. */
export interface ConfigBlob {
  config: ImageConfig;
  /** rootfs.diff_ids: the digest of each layer's uncompressed tar, bottom first. */
  diffIDs: string[];
  created?: string;
  platform: Platform;
}

/** A manifest or an index, told apart by mediaType or, where it is left out (OCI allows it), by its members. */
export function parseDocument(bytes: Uint8Array, what: string): { manifest: Manifest } | { index: Index } {
  const doc = decode(bytes, what);
  if (doc.schemaVersion === 1) throw new MinipodError(`${what}: Docker schema 1 manifests are not supported`);
  if (doc.schemaVersion !== 2) throw new MinipodError(`${what}: schemaVersion must be 2`);
  const mediaType = doc.mediaType ?? undefined;
  if (mediaType !== undefined && typeof mediaType !== 'string') throw new MinipodError(`${what}: mediaType must be a string`);
  const isIndex = mediaType === undefined ? Array.isArray(doc.manifests) : INDEX_TYPES.includes(mediaType);
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw new MinipodError(`${what}: manifests must be an array`);
    return {
      index: {
        mediaType: mediaType ?? MEDIA_TYPES.ociIndex,
        manifests: doc.manifests.map((d, i) => descriptor(d, `${what}: manifests[${i}]`)),
      },
    };
  }
  if (mediaType !== undefined && !MANIFEST_TYPES.includes(mediaType)) {
    throw new MinipodError(`${what}: media type ${mediaType} is neither an image manifest nor an index`);
  }
  if (!Array.isArray(doc.layers)) throw new MinipodError(`${what}: layers must be an array`);
  return {
    manifest: {
      mediaType: mediaType ?? MEDIA_TYPES.ociManifest,
      config: descriptor(doc.config, `${what}: config`),
      layers: doc.layers.map((d, i) => descriptor(d, `${what}: layers[${i}]`)),
    },
  };
}

/** Whether an index entry of this media type is an image manifest (not an index, nor anything else). */
export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.includes(mediaType);
}

export function parseManifest(bytes: Uint8Array, what: string): Manifest {
  const doc = parseDocument(bytes, what);
  if ('index' in doc) throw new MinipodError(`${what}: is an index, not an image manifest`);
  return doc.manifest;
}

export function parseIndex(bytes: Uint8Array, what: string): Index {
  const doc = parseDocument(bytes, what);
  if ('manifest' in doc) throw new MinipodError(`${what}: is an image manifest, not an index`);
  return doc.index;
}

export function parseConfigBlob(bytes: Uint8Array, what: string): ConfigBlob {
  const doc = decode(bytes, what);
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers') throw new MinipodError(`${what}: rootfs.type must be "layers"`);
  if (!isStringArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest)) {
    throw new MinipodError(`${what}: rootfs.diff_ids must be an array of sha256 digests`);
  }
  const string = (key: string): string | undefined => {
    const value = doc[key] ?? undefined;
    if (value === undefined || typeof value === 'string') return value;
    throw new MinipodError(`${what}: ${key} must be a string`);
  };
  const variant = string('variant');
  return {
    config: parseImageConfig(doc, what),
    diffIDs: rootfs.diff_ids,
    created: string('created'),
    platform: { os: string('os') ?? '', architecture: string('architecture') ?? '', ...(variant ? { variant } : {}) },
  };
}

function decode(bytes: Uint8Array, what: string): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw wrapError(what, err);
  }
  if (!isObject(doc)) throw new MinipodError(`${what}: must be a JSON object`);
  return doc;
}

function descriptor(value: unknown, what: string): Descriptor {
  if (!isObject(value)) throw new MinipodError(`${what}: must be a descriptor object`);
  const { mediaType, digest, size, platform, annotations } = value;
  if (typeof mediaType !== 'string') throw new MinipodError(`${what}: mediaType must be a string`);
  digestHex(digest, what);
  if (!Number.isSafeInteger(size) || (size as number) < 0) throw new MinipodError(`${what}: size must be a byte count`);
  const d: Descriptor = { mediaType, digest: digest as string, size: size as number };
  if (platform != null) {
    if (!isObject(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') {
      throw new MinipodError(`${what}: platform must have os and architecture strings`);
    }
    d.platform = { os: platform.os, architecture: platform.architecture };
    if (typeof platform.variant === 'string' && platform.variant !== '') d.platform.variant = platform.variant;
  }
  if (annotations != null) {
    if (!isObject(annotations) || !Object.values(annotations).every((v) => typeof v === 'string')) {
      throw new MinipodError(`${what}: annotations must be an object of strings`);
    }
    d.annotations = annotations as Record<string, string>;
  }
  return d;
}
