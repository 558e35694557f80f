// The image documents: manifests and indexes (OCI and Docker schema 2), what
// is read and every way one is refused; image configs (the fields a container
// runs with, as strictly as a directory image's config.json, rootfs, and
// platform).
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configPlatform, layerCompression, MEDIA_TYPES, parseConfigBlob, parseDocument, parseIndex, parseManifest } from '../../../lib/image/manifest.ts';
import { minipodError } from '../../helpers/assert.ts';
import { sha256 } from '../../helpers/images.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const d = (s: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip', extra: object = {}) => ({ mediaType, digest: sha256(s), size: s.length, ...extra });
const config = { mediaType: MEDIA_TYPES.ociConfig, digest: A, size: 10 };
const layer = (mediaType: string) => ({ mediaType, digest: B, size: 20 });
const manifest = (extra: Record<string, unknown> = {}) => ({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer('application/vnd.oci.image.layer.v1.tar+gzip')], ...extra });
/** The manifest or index parsed, whichever it is. */
const parsed = (bytes: Buffer, declared?: string) => {
  const doc = parseDocument(bytes, 'm', declared);
  return 'index' in doc ? doc.index : doc.manifest;
};

test('an OCI manifest: config and layers', () => {
  assert.equal(parseDocument(json(manifest()), 'm', MEDIA_TYPES.ociManifest), {
    manifest: {
      mediaType: MEDIA_TYPES.ociManifest,
      config,
      layers: [layer('application/vnd.oci.image.layer.v1.tar+gzip')],
    },
  });
});

test('an OCI manifest, and a Docker one; one without mediaType is told by its members', () => {
  const oci = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: d('c', 'application/vnd.oci.image.config.v1+json'), layers: [d('a'), d('b')] };
  assert.equal(parseManifest(json(oci), 'm'), { mediaType: oci.mediaType, config: oci.config, layers: oci.layers });
  const docker = { ...oci, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' };
  assert.is(parseManifest(json(docker), 'm').mediaType, docker.mediaType);
  const bare = { schemaVersion: 2, config: oci.config, layers: [] };
  assert.is(parseManifest(json(bare), 'm').mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok('index' in parseDocument(json({ schemaVersion: 2, manifests: [] }), 'i'));
});

test('an index: its entries with platform and annotations, whatever their media type', () => {
  const entry = { mediaType: MEDIA_TYPES.dockerManifest, digest: A, size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, annotations: { k: 'v' } };
  const doc = { schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifestList, manifests: [entry, { mediaType: 'application/x-other', digest: B, size: 0 }] };
  assert.equal(parseDocument(json(doc), 'm', MEDIA_TYPES.dockerManifestList), {
    index: {
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [entry, { mediaType: 'application/x-other', digest: B, size: 0 }],
    },
  });
});

test('an OCI document without mediaType: its type from how it was served, else from its fields', () => {
  const { mediaType: _, ...bare } = manifest();
  assert.is(parsed(json(bare), MEDIA_TYPES.ociManifest).mediaType, MEDIA_TYPES.ociManifest);
  assert.is(parsed(json(bare), 'application/json').mediaType, MEDIA_TYPES.ociManifest);
  assert.is(parsed(json({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MEDIA_TYPES.ociIndex);
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
    assert.ok('manifest' in parseDocument(json(manifest({ layers: [layer(mediaType)] })), 'm'));
  }
  assert.is(layerCompression('application/vnd.oci.image.layer.v1.tar+bz2'), undefined);
});

const SCHEMA1 = 'm: a Docker schema 1 manifest, which minipod does not read (deprecated since 2017): push the image again with a current docker, podman or skopeo';
const REFUSED: [string, unknown, string | undefined, string][] = [
  ['not JSON', '{', undefined, 'm: not JSON: '],
  ['an array', [], undefined, 'm: not a JSON object'],
  ['schema 1 by its Content-Type', manifest(), 'application/vnd.docker.distribution.manifest.v1+prettyjws', SCHEMA1],
  ['schema 1 by its schemaVersion', { schemaVersion: 1, fsLayers: [] }, 'application/json', SCHEMA1],
  ['schemaVersion 3', manifest({ schemaVersion: 3 }), undefined, 'm: schemaVersion is 3, not 2'],
  ['no schemaVersion', manifest({ schemaVersion: undefined }), undefined, 'm: schemaVersion is undefined, not 2'],
  ['a mediaType other than served', manifest(), MEDIA_TYPES.dockerManifest, `m: mediaType is ${MEDIA_TYPES.ociManifest}, but it was served as ${MEDIA_TYPES.dockerManifest}`],
  ['a mediaType that is not a manifest', manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }), undefined, 'm: media type application/vnd.oci.image.config.v1+json is not an image manifest or index'],
  ['a mediaType of neither kind', { schemaVersion: 2, mediaType: 'text/plain', layers: [] }, undefined, 'm: media type text/plain is not an image manifest or index'],
  ['a numeric mediaType', manifest({ mediaType: 2 }), undefined, 'm: mediaType is not a string'],
  ['no config', manifest({ config: undefined }), undefined, 'm: config is not an object'],
  ['no mediaType on the config', { schemaVersion: 2, config: { digest: sha256('c'), size: 1 }, layers: [] }, undefined, 'm: config.mediaType is not a string'],
  ['an artifact', manifest({ config: { ...config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }), undefined,
    'm: config media type application/vnd.cncf.helm.config.v1+json is not a container image config (an artifact, not an image)'],
  ['no layers', manifest({ layers: undefined }), undefined, 'm: layers is not a list'],
  ['no layers, and a config that is not one', { schemaVersion: 2, config: d('c') }, undefined, 'm: layers is not a list'],
  ['a digest of another algorithm', manifest({ layers: [{ ...layer(MEDIA_TYPES.ociConfig), digest: `sha512:${'a'.repeat(128)}` }] }), undefined,
    `m: layers[0]: digest sha512:${'a'.repeat(128)}: only sha256 digests are supported`],
  ['an upper-case digest', manifest({ config: { ...config, digest: A.toUpperCase() } }), undefined, `m: config: "${A.toUpperCase()}" is not a sha256 digest (sha256:<64 lower-case hex digits>)`],
  ['a digest that is a path', { schemaVersion: 2, config: d('c'), layers: [{ ...d('a'), digest: 'sha256:../../x' }] }, undefined, 'm: layers[0]: "sha256:../../x" is not a sha256 digest (sha256:<64 lower-case hex digits>)'],
  ['a negative size', manifest({ config: { ...config, size: -1 } }), undefined, 'm: config.size -1 is not a non-negative integer'],
  ['a negative layer size', { schemaVersion: 2, config: d('c'), layers: [{ ...d('a'), size: -2 }] }, undefined, 'm: layers[0].size -2 is not a non-negative integer'],
  ['a fractional size', manifest({ config: { ...config, size: 1.5 } }), undefined, 'm: config.size 1.5 is not a non-negative integer'],
  ['an unsafe size', manifest({ config: { ...config, size: 2 ** 53 } }), undefined, 'm: config.size 9007199254740992 is not a non-negative integer'],
  ['a size as a string', manifest({ config: { ...config, size: '10' } }), undefined, 'm: config.size "10" is not a non-negative integer'],
  ['no mediaType on a layer', manifest({ layers: [{ digest: B, size: 1 }] }), undefined, 'm: layers[0].mediaType is not a string'],
  ['a foreign layer', manifest({ layers: [layer('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')] }), undefined,
    'm: layers[0] is a foreign (non-distributable) layer, application/vnd.docker.image.rootfs.foreign.diff.tar.gzip: Windows base layers are not fetched nor run'],
  ['a non-distributable layer', manifest({ layers: [layer('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')] }), undefined,
    'm: layers[0] is a foreign (non-distributable) layer, application/vnd.oci.image.layer.nondistributable.v1.tar+gzip: Windows base layers are not fetched nor run'],
  ['an unknown layer type', manifest({ layers: [layer('application/vnd.oci.image.layer.v1.tar'), layer('application/x-squashfs')] }), undefined,
    'm: layers[1] has media type application/x-squashfs, not a layer type minipod unpacks (tar, tar+gzip, tar+zstd)'],
  ['an index whose manifests is not a list', { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: {} }, undefined, 'm: manifests is not a list'],
  ['an index entry with a platform without os', { schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: A, size: 1, platform: { architecture: 'amd64' } }] }, undefined,
    'm: manifests[0].platform has no os and architecture'],
  ['an index entry with a platform without architecture', { schemaVersion: 2, manifests: [{ ...d('m'), platform: { os: 'linux' } }] }, undefined,
    'm: manifests[0].platform has no os and architecture'],
  ['an index entry with annotations that are not strings', { schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: A, size: 1, annotations: { a: 1 } }] }, undefined,
    'm: manifests[0].annotations is not a map of strings'],
  ['urls that are not strings', manifest({ layers: [{ ...layer('application/vnd.oci.image.layer.v1.tar'), urls: [1] }] }), undefined, 'm: layers[0].urls is not a list of strings'],
];
for (const [what, doc, declared, message] of REFUSED) {
  test(`refused: ${what}`, () => {
    const got = minipodError(() => parseDocument(typeof doc === 'string' ? Buffer.from(doc) : json(doc), 'm', declared));
    if (message.endsWith(': ')) assert.ok(got.startsWith(message), got);
    else assert.is(got, message);
  });
}

test('parseManifest and parseIndex each refuse the other kind; broken JSON is named', () => {
  assert.is(minipodError(() => parseManifest(json({ schemaVersion: 2, manifests: [] }), 'x')), 'x: is an index, not an image manifest');
  assert.is(minipodError(() => parseIndex(json({ schemaVersion: 2, config, layers: [] }), 'x')), 'x: is an image manifest, not an index');
  assert.match(minipodError(() => parseManifest(Buffer.from('{'), 'x')), /^x: not JSON: /);
});

const configBlob = (extra: object, inner: object = {}) => json({ architecture: 'arm64', os: 'linux', config: inner, rootfs: { type: 'layers', diff_ids: [sha256('t')] }, ...extra });

test('an image config: the container fields (ExposedPorts and Volumes as keys), diff IDs, created, platform', () => {
  const got = parseConfigBlob(configBlob({ created: '2024-01-02T03:04:05Z', variant: 'v8' }, {
    Entrypoint: ['/init'], Cmd: null, Env: ['A=1'], WorkingDir: '/srv', User: '1000:1000',
    ExposedPorts: { '8080/tcp': {} }, Volumes: { '/var/lib/data': {}, '/cache': {} }, StopSignal: 'SIGINT', Labels: { ignored: 'yes' },
  }), 'cfg');
  assert.equal(got, {
    config: {
      Entrypoint: ['/init'], Cmd: undefined, Env: ['A=1'], WorkingDir: '/srv', User: '1000:1000',
      ExposedPorts: ['8080/tcp'], Volumes: ['/var/lib/data', '/cache'], StopSignal: 'SIGINT',
    },
    diffIDs: [sha256('t')],
    created: '2024-01-02T03:04:05Z',
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  });
});

const BAD_CONFIGS: [Buffer, string][] = [
  [configBlob({}, { ExposedPorts: ['80/tcp'] }), 'cfg: config.ExposedPorts must be an object whose values are objects'],
  [configBlob({}, { Volumes: { '/data': true } }), 'cfg: config.Volumes must be an object whose values are objects'],
  [configBlob({}, { StopSignal: 9 }), 'cfg: config.StopSignal must be a string'],
  [configBlob({}, { Cmd: 'sh' }), 'cfg: config.Cmd must be an array of strings'],
  [configBlob({ rootfs: { type: 'snapshot', diff_ids: [] } }), 'cfg: rootfs.type must be "layers"'],
  [configBlob({ rootfs: { type: 'layers', diff_ids: ['sha256:abc'] } }), 'cfg: rootfs.diff_ids must be an array of sha256 digests'],
  [configBlob({ rootfs: undefined }), 'cfg: rootfs.type must be "layers"'],
  [configBlob({ created: 5 }), 'cfg: created must be a string'],
  [configBlob({ architecture: undefined }), 'cfg: the config has no os and architecture'],
];
for (const [blob, message] of BAD_CONFIGS) {
  test(`config refused: ${message}`, () => {
    assert.is(minipodError(() => parseConfigBlob(blob, 'cfg')), message);
  });
}

test('configPlatform: os, architecture and variant of a config; refused without them', () => {
  assert.equal(configPlatform(json({ os: 'linux', architecture: 'arm64', variant: 'v8', config: {} }), 'cfg'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.equal(configPlatform(json({ os: 'linux', architecture: 'amd64' }), 'cfg'), { os: 'linux', architecture: 'amd64' });
  assert.is(minipodError(() => configPlatform(json({ os: 'linux' }), 'cfg')), 'cfg: the config has no os and architecture');
});

test.run();
