// Manifests and indexes, OCI and Docker schema 2, checked before anything is
// fetched on their word: each descriptor a valid digest and a size that is a
// safe integer, each layer a type minipod can unpack. Pure: the registry
// client and an archive loader read the same documents.
import { MinipodError } from '../errors.ts';
import { isDigest } from '../image/digest.ts';
import type { Platform } from '../image/platform.ts';
import { isObject, isStringArray, type Obj } from '../spec/json.ts';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const INDEX_TYPES: string[] = [MediaType.ociIndex, MediaType.dockerList];
const MANIFEST_TYPES: string[] = [MediaType.ociManifest, MediaType.dockerManifest];
const CONFIG_TYPES: string[] = [MediaType.ociConfig, MediaType.dockerConfig];
const SCHEMA1_TYPES = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

/** Every manifest and index type, for the Accept header: schema 1 left out, so a registry that can convert does. */
export const MANIFEST_ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES];

export type Compression = 'none' | 'gzip' | 'zstd';

// containerd's set. Docker's uncompressed and zstd layer types are what
// `docker save` and buildx write; the registry API carries them as well.
const LAYER_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
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

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] };

/** How a layer of this media type is compressed; undefined for a type that is not a layer minipod unpacks. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_TYPES[mediaType];
}

/**
 * Decode and check a manifest or index. `declared` is the media type it was
 * served or listed as (a Content-Type, or the descriptor that named it);
 * when the document carries its own `mediaType`, the two must agree. Throws
 * a MinipodError saying what is wrong (the caller says which document).
 */
export function parseManifest(bytes: Uint8Array, declared: string | undefined): Manifest {
  if (declared !== undefined && SCHEMA1_TYPES.includes(declared)) throw schema1();
  const doc = jsonObject(bytes);
  if (doc.schemaVersion === 1) throw schema1();
  if (doc.schemaVersion !== 2) throw new MinipodError(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, not 2`);
  const own = doc.mediaType;
  if (own !== undefined && typeof own !== 'string') throw new MinipodError('mediaType is not a string');
  const known = (t: string | undefined) => t !== undefined && (INDEX_TYPES.includes(t) || MANIFEST_TYPES.includes(t));
  if (own !== undefined && known(declared) && own !== declared) {
    throw new MinipodError(`mediaType is ${own}, but it was served as ${declared}`);
  }
  // An OCI document may leave its mediaType out; then its fields say which it is.
  const mediaType = own ?? (known(declared) ? declared! : 'manifests' in doc ? MediaType.ociIndex : MediaType.ociManifest);
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new MinipodError('manifests is not a list');
    return { kind: 'index', mediaType, manifests: doc.manifests.map((d, i) => descriptor(d, `manifests[${i}]`)) };
  }
  if (!MANIFEST_TYPES.includes(mediaType)) throw new MinipodError(`media type ${mediaType} is not an image manifest or index`);
  const config = descriptor(doc.config, 'config');
  if (!CONFIG_TYPES.includes(config.mediaType)) {
    throw new MinipodError(`config media type ${config.mediaType} is not a container image config (an artifact, not an image)`);
  }
  if (!Array.isArray(doc.layers)) throw new MinipodError('layers is not a list');
  const layers = doc.layers.map((d, i) => descriptor(d, `layers[${i}]`));
  for (const [i, layer] of layers.entries()) {
    if (FOREIGN_LAYER.test(layer.mediaType)) {
      throw new MinipodError(`layers[${i}] is a foreign (non-distributable) layer, ${layer.mediaType}: Windows base layers are not fetched nor run`);
    }
    if (layerCompression(layer.mediaType) === undefined) {
      throw new MinipodError(`layers[${i}] has media type ${layer.mediaType}, not a layer type minipod unpacks (tar, tar+gzip, tar+zstd)`);
    }
  }
  return { kind: 'manifest', mediaType, config, layers };
}

function jsonObject(bytes: Uint8Array): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new MinipodError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new MinipodError('not a JSON object');
  return doc;
}

function schema1(): MinipodError {
  return new MinipodError('a Docker schema 1 manifest, which minipod does not read (deprecated since 2017): push the image again with a current docker, podman or skopeo');
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new MinipodError(`${where} is not an object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw new MinipodError(`${where}.mediaType is not a string`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw new MinipodError(`${where}.digest ${JSON.stringify(digest)} is not a sha256 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new MinipodError(`${where}.size ${JSON.stringify(size)} is not a non-negative integer`);
  }
  const d: Descriptor = { mediaType, digest, size };
  if (value.platform !== undefined) d.platform = platform(value.platform, `${where}.platform`);
  if (value.annotations !== undefined) d.annotations = annotations(value.annotations, `${where}.annotations`);
  if (value.urls !== undefined) {
    if (!isStringArray(value.urls)) throw new MinipodError(`${where}.urls is not a list of strings`);
    d.urls = value.urls;
  }
  return d;
}

function platform(value: unknown, where: string): Platform {
  if (!isObject(value)) throw new MinipodError(`${where} is not an object`);
  return platformFields(value, where);
}

function platformFields(o: Obj, where: string): Platform {
  const { os, architecture, variant } = o;
  if (typeof os !== 'string' || typeof architecture !== 'string') throw new MinipodError(`${where} has no os and architecture`);
  if (variant !== undefined && typeof variant !== 'string') throw new MinipodError(`${where}.variant is not a string`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

function annotations(value: unknown, where: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new MinipodError(`${where} is not a map of strings`);
  }
  return value as Record<string, string>;
}

/** The platform an image config says its binaries are for. */
export function configPlatform(bytes: Uint8Array): Platform {
  return platformFields(jsonObject(bytes), 'the config');
}
