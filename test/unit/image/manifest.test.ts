// The image documents: manifests and indexes (OCI and Docker schema 2),
// image configs (the fields a container runs with, as strictly as a
// directory image's config.json, and rootfs), platform choice; and the
// placeholder name normaliser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostPlatform, type Index, parseConfigBlob, parseDocument, parseIndex, parseManifest, pickPlatform, platformString } from '../../../lib/image/manifest.ts';
import { minipodError } from '../../helpers/assert.ts';
import { sha256 } from '../../helpers/images.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const d = (s: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip', extra: object = {}) => ({ mediaType, digest: sha256(s), size: s.length, ...extra });

test('an OCI manifest, and a Docker one; one without mediaType is told by its members', () => {
  const oci = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: d('c', 'application/vnd.oci.image.config.v1+json'), layers: [d('a'), d('b')] };
  assert.equal(parseManifest(json(oci), 'm'), { mediaType: oci.mediaType, config: oci.config, layers: oci.layers });
  const docker = { ...oci, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' };
  assert.is(parseManifest(json(docker), 'm').mediaType, docker.mediaType);
  const bare = { schemaVersion: 2, config: oci.config, layers: [] };
  assert.is(parseManifest(json(bare), 'm').mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok('index' in parseDocument(json({ schemaVersion: 2, manifests: [] }), 'i'));
});

const BAD_DOCS: [unknown, string][] = [
  [[], 'm: must be a JSON object'],
  [{ schemaVersion: 1, fsLayers: [] }, 'm: Docker schema 1 manifests are not supported'],
  [{ schemaVersion: 3 }, 'm: schemaVersion must be 2'],
  [{ schemaVersion: 2, mediaType: 'text/plain', layers: [] }, 'm: media type text/plain is neither an image manifest nor an index'],
  [{ schemaVersion: 2, config: d('c') }, 'm: layers must be an array'],
  [{ schemaVersion: 2, config: d('c'), layers: [{ ...d('a'), digest: 'sha256:../../x' }] }, 'm: layers[0]: "sha256:../../x" is not a sha256 digest (sha256:<64 lower-case hex digits>)'],
  [{ schemaVersion: 2, config: d('c'), layers: [{ ...d('a'), size: -2 }] }, 'm: layers[0]: size must be a byte count'],
  [{ schemaVersion: 2, config: { digest: sha256('c'), size: 1 }, layers: [] }, 'm: config: mediaType must be a string'],
  [{ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: {} }, 'm: manifests must be an array'],
  [{ schemaVersion: 2, manifests: [{ ...d('m'), platform: { os: 'linux' } }] }, 'm: manifests[0]: platform must have os and architecture strings'],
];
for (const [doc, message] of BAD_DOCS) {
  test(`refused: ${message}`, () => {
    assert.is(minipodError(() => parseDocument(json(doc), 'm')), message);
  });
}

test('parseManifest and parseIndex each refuse the other kind; broken JSON is named', () => {
  assert.is(minipodError(() => parseManifest(json({ schemaVersion: 2, manifests: [] }), 'x')), 'x: is an index, not an image manifest');
  assert.is(minipodError(() => parseIndex(json({ schemaVersion: 2, config: d('c'), layers: [] }), 'x')), 'x: is an image manifest, not an index');
  assert.match(minipodError(() => parseManifest(Buffer.from('{'), 'x')), /^x: /);
});

const config = (extra: object, inner: object = {}) => json({ architecture: 'arm64', os: 'linux', config: inner, rootfs: { type: 'layers', diff_ids: [sha256('t')] }, ...extra });

test('an image config: the container fields (ExposedPorts and Volumes as keys), diff IDs, created, platform', () => {
  const parsed = parseConfigBlob(config({ created: '2024-01-02T03:04:05Z', variant: 'v8' }, {
    Entrypoint: ['/init'], Cmd: null, Env: ['A=1'], WorkingDir: '/srv', User: '1000:1000',
    ExposedPorts: { '8080/tcp': {} }, Volumes: { '/var/lib/data': {}, '/cache': {} }, StopSignal: 'SIGINT', Labels: { ignored: 'yes' },
  }), 'cfg');
  assert.equal(parsed, {
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
  [config({}, { ExposedPorts: ['80/tcp'] }), 'cfg: config.ExposedPorts must be an object whose values are objects'],
  [config({}, { Volumes: { '/data': true } }), 'cfg: config.Volumes must be an object whose values are objects'],
  [config({}, { StopSignal: 9 }), 'cfg: config.StopSignal must be a string'],
  [config({}, { Cmd: 'sh' }), 'cfg: config.Cmd must be an array of strings'],
  [config({ rootfs: { type: 'snapshot', diff_ids: [] } }), 'cfg: rootfs.type must be "layers"'],
  [config({ rootfs: { type: 'layers', diff_ids: ['sha256:abc'] } }), 'cfg: rootfs.diff_ids must be an array of sha256 digests'],
  [config({ rootfs: undefined }), 'cfg: rootfs.type must be "layers"'],
  [config({ created: 5 }), 'cfg: created must be a string'],
];
for (const [blob, message] of BAD_CONFIGS) {
  test(`config refused: ${message}`, () => {
    assert.is(minipodError(() => parseConfigBlob(blob, 'cfg')), message);
  });
}

test('pickPlatform: os, architecture and variant, arm64 meaning v8 unless said; an entry without a platform is never picked', () => {
  const m = (architecture: string, variant?: string) => d(architecture + (variant ?? ''), 'application/vnd.oci.image.manifest.v1+json', { platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const index: Index = {
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [d('attestation', 'application/vnd.oci.image.manifest.v1+json'), m('amd64'), m('arm', 'v6'), m('arm', 'v7'), m('arm64', 'v8')],
  };
  assert.is(pickPlatform(index, { os: 'linux', architecture: 'amd64' })?.digest, sha256('amd64'));
  assert.is(pickPlatform(index, { os: 'linux', architecture: 'arm64' })?.digest, sha256('arm64v8'));
  assert.is(pickPlatform(index, { os: 'linux', architecture: 'arm' })?.digest, sha256('armv7'));
  assert.is(pickPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, sha256('armv6'));
  assert.is(pickPlatform(index, { os: 'linux', architecture: 's390x' }), null);
  assert.is(pickPlatform({ ...index, manifests: [m('arm64')] }, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, sha256('arm64'));
  assert.is(platformString({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.is(hostPlatform().os, 'linux');
  assert.is(hostPlatform().architecture, { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64']);
});

test.run();
