// The JSON documents of an image as the OCI image spec and Docker's schema 2
// write them: manifests, indexes (Docker's manifest lists) and image configs,
// checked before anything is fetched or stored on their word: each
// descriptor a valid digest and a size that is a safe integer, each layer a
// type minipod can unpack. Pure: the registry client, the store and the
// archive loader read the same documents.
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray, type Obj } from '../spec/json.ts';
import type { Compression } from './decompress.ts';
import { digestHex, isDigest } from './digest.ts';
import { type ImageConfig, parseImageConfig } from './image.ts';
import type { Platform } from './platform.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const CONFIG_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];
const SCHEMA1_TYPES: readonly string[] = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

/** Every manifest and index type, for the Accept header: schema 1 left out, so a registry that can convert does. */
export const MANIFEST_ACCEPT: readonly string[] = [...INDEX_TYPES, ...MANIFEST_TYPES];

// containerd's set. Docker's uncompressed and zstd layer types are what
// `docker save` and buildx write; the registry API carries them as well.
const LAYER_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  [MEDIA_TYPES.ociLayerZstd]: 'zstd',
  [MEDIA_TYPES.dockerLayer]: 'none',
  [MEDIA_TYPES.dockerLayerGzip]: 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd': 'zstd',
};
const FOREIGN_LAYER = /^application\/vnd\.(?:docker\.image\.rootfs\.foreign\.diff\.tar\.gzip|oci\.image\.layer\.nondistributable\.v1\.tar(?:\+gzip|\+zstd)?)$/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
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

/** How a layer of this media type is compressed; undefined for a type that is not a layer minipod unpacks. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_TYPES[mediaType];
}

/** Whether an index entry of this media type is an image manifest (not an index, nor anything else). */
export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.includes(mediaType);
}

/**
 * Decode and check a manifest or an index, told apart by its mediaType or,
 * where it is left out (OCI allows it), by its members. `declared` is the
 * media type it was served or listed as (a Content-Type, or the descriptor
 * that named it): when the document carries its own mediaType, the two must
 * agree. Errors are MinipodErrors starting with `what`.
 */
export function parseDocument(bytes: Uint8Array, what: string, declared?: string): { manifest: Manifest } | { index: Index } {
  const fail = (message: string) => new MinipodError(`${what}: ${message}`);
  if (declared !== undefined && SCHEMA1_TYPES.includes(declared)) throw fail(SCHEMA1);
  const doc = decode(bytes, what);
  if (doc.schemaVersion === 1) throw fail(SCHEMA1);
  if (doc.schemaVersion !== 2) throw fail(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, not 2`);
  const own = doc.mediaType;
  if (own !== undefined && typeof own !== 'string') throw fail('mediaType is not a string');
  const known = (t: string | undefined): t is string => t !== undefined && (INDEX_TYPES.includes(t) || MANIFEST_TYPES.includes(t));
  if (own !== undefined && known(declared) && own !== declared) throw fail(`mediaType is ${own}, but it was served as ${declared}`);
  const mediaType = own ?? (known(declared) ? declared : 'manifests' in doc ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw fail('manifests is not a list');
    return { index: { mediaType, manifests: doc.manifests.map((d, i) => descriptor(d, what, `manifests[${i}]`)) } };
  }
  if (!MANIFEST_TYPES.includes(mediaType)) throw fail(`media type ${mediaType} is not an image manifest or index`);
  const config = descriptor(doc.config, what, 'config');
  if (!Array.isArray(doc.layers)) throw fail('layers is not a list');
  const layers = doc.layers.map((d, i) => descriptor(d, what, `layers[${i}]`));
  if (!CONFIG_TYPES.includes(config.mediaType)) {
    throw fail(`config media type ${config.mediaType} is not a container image config (an artifact, not an image)`);
  }
  for (const [i, layer] of layers.entries()) {
    if (FOREIGN_LAYER.test(layer.mediaType)) {
      throw fail(`layers[${i}] is a foreign (non-distributable) layer, ${layer.mediaType}: Windows base layers are not fetched nor run`);
    }
    if (layerCompression(layer.mediaType) === undefined) {
      throw fail(`layers[${i}] has media type ${layer.mediaType}, not a layer type minipod unpacks (tar, tar+gzip, tar+zstd)`);
    }
  }
  return { manifest: { mediaType, config, layers } };
}

export function parseManifest(bytes: Uint8Array, what: string, declared?: string): Manifest {
  const doc = parseDocument(bytes, what, declared);
  if ('index' in doc) throw new MinipodError(`${what}: is an index, not an image manifest`);
  return doc.manifest;
}

export function parseIndex(bytes: Uint8Array, what: string, declared?: string): Index {
  const doc = parseDocument(bytes, what, declared);
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
  const created = doc.created ?? undefined;
  if (created !== undefined && typeof created !== 'string') throw new MinipodError(`${what}: created must be a string`);
  return {
    config: parseImageConfig(doc, what),
    diffIDs: rootfs.diff_ids,
    created,
    platform: platformFields(doc, what, 'the config'),
  };
}

/**
 * The platform an image config says its binaries are for, and nothing else
 * of it: what the registry client checks before it fetches any layer.
 */
export function configPlatform(bytes: Uint8Array, what: string): Platform {
  return platformFields(decode(bytes, what), what, 'the config');
}

const SCHEMA1 = 'a Docker schema 1 manifest, which minipod does not read (deprecated since 2017): push the image again with a current docker, podman or skopeo';

function decode(bytes: Uint8Array, what: string): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw wrapError(`${what}: not JSON`, err);
  }
  if (!isObject(doc)) throw new MinipodError(`${what}: not a JSON object`);
  return doc;
}

function descriptor(value: unknown, what: string, where: string): Descriptor {
  const fail = (message: string) => new MinipodError(`${what}: ${where}${message}`);
  if (!isObject(value)) throw fail(' is not an object');
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw fail('.mediaType is not a string');
  digestHex(digest, `${what}: ${where}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw fail(`.size ${JSON.stringify(size)} is not a non-negative integer`);
  const d: Descriptor = { mediaType, digest: digest as string, size };
  if (value.platform !== undefined) {
    if (!isObject(value.platform)) throw fail('.platform is not an object');
    d.platform = platformFields(value.platform, what, `${where}.platform`);
  }
  if (value.annotations !== undefined) {
    if (!isObject(value.annotations) || !Object.values(value.annotations).every((v) => typeof v === 'string')) {
      throw fail('.annotations is not a map of strings');
    }
    d.annotations = value.annotations as Record<string, string>;
  }
  if (value.urls !== undefined) {
    if (!isStringArray(value.urls)) throw fail('.urls is not a list of strings');
    d.urls = value.urls;
  }
  return d;
}

function platformFields(o: Obj, what: string, where: string): Platform {
  const { os, architecture, variant } = o;
  if (typeof os !== 'string' || typeof architecture !== 'string') throw new MinipodError(`${what}: ${where} has no os and architecture`);
  if (variant !== undefined && typeof variant !== 'string') throw new MinipodError(`${what}: ${where} has a variant that is not a string`);
  return variant ? { os, architecture, variant } : { os, architecture };
}
