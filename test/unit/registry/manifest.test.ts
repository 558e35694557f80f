// Manifests and indexes: what is read, and every way one is refused.
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaType, configPlatform, layerCompression, parseManifest } from '../../../lib/registry/manifest.ts';
import { minipodError } from '../../helpers/assert.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const config = { mediaType: MediaType.ociConfig, digest: A, size: 10 };
const layer = (mediaType: string) => ({ mediaType, digest: B, size: 20 });
const manifest = (extra: Record<string, unknown> = {}) => ({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer('application/vnd.oci.image.layer.v1.tar+gzip')], ...extra });

test('an OCI manifest: config and layers', () => {
  assert.equal(parseManifest(bytes(manifest()), MediaType.ociManifest), {
    kind: 'manifest',
    mediaType: MediaType.ociManifest,
    config,
    layers: [layer('application/vnd.oci.image.layer.v1.tar+gzip')],
  });
});

test('an index: its entries with platform and annotations, whatever their media type', () => {
  const entry = { mediaType: MediaType.dockerManifest, digest: A, size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, annotations: { k: 'v' } };
  const doc = { schemaVersion: 2, mediaType: MediaType.dockerList, manifests: [entry, { mediaType: 'application/x-other', digest: B, size: 0 }] };
  assert.equal(parseManifest(bytes(doc), MediaType.dockerList), {
    kind: 'index',
    mediaType: MediaType.dockerList,
    manifests: [entry, { mediaType: 'application/x-other', digest: B, size: 0 }],
  });
});

test('an OCI document without mediaType: its type from how it was served, else from its fields', () => {
  const { mediaType: _, ...bare } = manifest();
  assert.is(parseManifest(bytes(bare), MediaType.ociManifest).mediaType, MediaType.ociManifest);
  assert.is(parseManifest(bytes(bare), 'application/json').mediaType, MediaType.ociManifest);
  assert.is(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MediaType.ociIndex);
});

test('every layer media type minipod unpacks, and its compression', () => {
  const types: [string, string][] = [
    ['application/vnd.oci.image.layer.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
    ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
  ];
  for (const [mediaType, compression] of types) {
    assert.is(layerCompression(mediaType), compression);
    assert.equal(parseManifest(bytes(manifest({ layers: [layer(mediaType)] })), undefined).kind, 'manifest');
  }
  assert.is(layerCompression('application/vnd.oci.image.layer.v1.tar+bz2'), undefined);
});

const SCHEMA1 = 'a Docker schema 1 manifest, which minipod does not read (deprecated since 2017): push the image again with a current docker, podman or skopeo';
const REFUSED: [string, unknown, string | undefined, string][] = [
  ['not JSON', '{', undefined, 'not JSON: '],
  ['an array', [], undefined, 'not a JSON object'],
  ['schema 1 by its Content-Type', manifest(), 'application/vnd.docker.distribution.manifest.v1+prettyjws', SCHEMA1],
  ['schema 1 by its schemaVersion', { schemaVersion: 1, fsLayers: [] }, 'application/json', SCHEMA1],
  ['schemaVersion 3', manifest({ schemaVersion: 3 }), undefined, 'schemaVersion is 3, not 2'],
  ['no schemaVersion', manifest({ schemaVersion: undefined }), undefined, 'schemaVersion is undefined, not 2'],
  ['a mediaType other than served', manifest(), MediaType.dockerManifest, `mediaType is ${MediaType.ociManifest}, but it was served as ${MediaType.dockerManifest}`],
  ['a mediaType that is not a manifest', manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }), undefined, 'media type application/vnd.oci.image.config.v1+json is not an image manifest or index'],
  ['a numeric mediaType', manifest({ mediaType: 2 }), undefined, 'mediaType is not a string'],
  ['no config', manifest({ config: undefined }), undefined, 'config is not an object'],
  ['an artifact', manifest({ config: { ...config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }), undefined,
    'config media type application/vnd.cncf.helm.config.v1+json is not a container image config (an artifact, not an image)'],
  ['no layers', manifest({ layers: undefined }), undefined, 'layers is not a list'],
  ['a digest of another algorithm', manifest({ layers: [{ ...layer(MediaType.ociConfig), digest: `sha512:${'a'.repeat(128)}` }] }), undefined,
    `layers[0].digest "sha512:${'a'.repeat(128)}" is not a sha256 digest`],
  ['an upper-case digest', manifest({ config: { ...config, digest: A.toUpperCase() } }), undefined, `config.digest "${A.toUpperCase()}" is not a sha256 digest`],
  ['a negative size', manifest({ config: { ...config, size: -1 } }), undefined, 'config.size -1 is not a non-negative integer'],
  ['a fractional size', manifest({ config: { ...config, size: 1.5 } }), undefined, 'config.size 1.5 is not a non-negative integer'],
  ['an unsafe size', manifest({ config: { ...config, size: 2 ** 53 } }), undefined, 'config.size 9007199254740992 is not a non-negative integer'],
  ['a size as a string', manifest({ config: { ...config, size: '10' } }), undefined, 'config.size "10" is not a non-negative integer'],
  ['no mediaType on a layer', manifest({ layers: [{ digest: B, size: 1 }] }), undefined, 'layers[0].mediaType is not a string'],
  ['a foreign layer', manifest({ layers: [layer('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')] }), undefined,
    'layers[0] is a foreign (non-distributable) layer, application/vnd.docker.image.rootfs.foreign.diff.tar.gzip: Windows base layers are not fetched nor run'],
  ['a non-distributable layer', manifest({ layers: [layer('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')] }), undefined,
    'layers[0] is a foreign (non-distributable) layer, application/vnd.oci.image.layer.nondistributable.v1.tar+gzip: Windows base layers are not fetched nor run'],
  ['an unknown layer type', manifest({ layers: [layer('application/vnd.oci.image.layer.v1.tar'), layer('application/x-squashfs')] }), undefined,
    'layers[1] has media type application/x-squashfs, not a layer type minipod unpacks (tar, tar+gzip, tar+zstd)'],
  ['an index whose manifests is not a list', { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: {} }, undefined, 'manifests is not a list'],
  ['an index entry with a platform without os', { schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: A, size: 1, platform: { architecture: 'amd64' } }] }, undefined,
    'manifests[0].platform has no os and architecture'],
  ['an index entry with annotations that are not strings', { schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: A, size: 1, annotations: { a: 1 } }] }, undefined,
    'manifests[0].annotations is not a map of strings'],
  ['urls that are not strings', manifest({ layers: [{ ...layer('application/vnd.oci.image.layer.v1.tar'), urls: [1] }] }), undefined, 'layers[0].urls is not a list of strings'],
];
for (const [what, doc, declared, message] of REFUSED) {
  test(`refused: ${what}`, () => {
    const got = minipodError(() => parseManifest(typeof doc === 'string' ? Buffer.from(doc) : bytes(doc), declared));
    if (message.endsWith(': ')) assert.ok(got.startsWith(message), got);
    else assert.is(got, message);
  });
}

test('configPlatform: os, architecture and variant of a config; refused without them', () => {
  assert.equal(configPlatform(bytes({ os: 'linux', architecture: 'arm64', variant: 'v8', config: {} })), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.equal(configPlatform(bytes({ os: 'linux', architecture: 'amd64' })), { os: 'linux', architecture: 'amd64' });
  assert.is(minipodError(() => configPlatform(bytes({ os: 'linux' }))), 'the config has no os and architecture');
});

test.run();
