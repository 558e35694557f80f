// load: docker save archives (the classic layout, a docker 25 one with
// blobs/ and symlinks, compressed layers, the whole archive gzipped) and OCI
// layout archives (names from annotations, an index resolved to this
// platform), all built here with tar-stream; hostile archives (.., absolute
// names, links pointing out, a blob that lies, an entry too large, a
// truncated stream) refuse with one line and leave nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadArchive } from '../../../lib/image/archive.ts';
import { readInLayers } from '../../../lib/image/layered.ts';
import { hostPlatform } from '../../../lib/image/platform.ts';
import { ImageStore } from '../../../lib/image/store.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';
import { isRoot } from '../../helpers/cli.ts';
import { skopeo } from '../../helpers/skopeo.ts';
import { BASE_ENTRIES, chunksOf, imageOf, layerOf, sha256, type TarEntry, tarOf, type TestImage, testUnpack } from '../../helpers/images.ts';

const { libc } = await openHost();
const OPTS = { maxUnpackedSize: 1 << 20 };

interface Ctx {
  /** The temporary directory; the store is its images/ and nothing may appear beside it. */
  tmp: string;
  dir: string;
  store: ImageStore;
  load: (archive: Buffer, opts?: Partial<Parameters<typeof loadArchive>[2]>) => ReturnType<typeof loadArchive>;
}

function withStore(fn: (ctx: Ctx) => Promise<void>): () => Promise<void> {
  return async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'minipod-archive-'));
    try {
      const dir = join(tmp, 'images');
      const store = new ImageStore(dir, { libc, unpack: testUnpack });
      await fn({ tmp, dir, store, load: (archive, opts) => loadArchive(store, chunksOf(archive, 4096), { ...OPTS, ...opts }) });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };
}

const base = await layerOf(BASE_ENTRIES);
const app = await layerOf(['app/run']);
const image = imageOf([base, app], { created: '2024-03-03T00:00:00Z' });
const hex = (digest: string) => digest.slice(7);
const blobsIn = (dir: string) => (existsSync(join(dir, 'blobs', 'sha256')) ? readdirSync(join(dir, 'blobs', 'sha256')).sort() : []);
/** Nothing in the store but empty directories and its lock-free metadata: what a refused load leaves. */
function assertEmpty(ctx: Ctx) {
  assert.equal(ctx.store.list(), []);
  assert.equal(blobsIn(ctx.dir), []);
  assert.equal(ctx.store.snapshots.list(), []);
  assert.equal(readdirSync(ctx.tmp), existsSync(ctx.dir) ? ['images'] : []);
}

/** A classic docker save: <id>/layer.tar, <id>/json, <id>/VERSION, <config hex>.json, manifest.json last. */
async function dockerSave(img: TestImage, repoTags: string[] | null, opts: { layerNames?: string[]; extra?: TarEntry[] } = {}): Promise<Buffer> {
  const layerNames = opts.layerNames ?? img.layers.map((l) => `${hex(l.diffID)}/layer.tar`);
  return tarOf([
    ...img.layers.flatMap((l, i): TarEntry[] => [
      { name: `${hex(l.diffID)}/`, type: 'directory' },
      { name: `${hex(l.diffID)}/VERSION`, body: '1.0' },
      { name: `${hex(l.diffID)}/json`, body: `{"id":"${hex(l.diffID)}"}` },
      { name: layerNames[i]!, body: l.blob },
    ]),
    { name: `${hex(img.configDigest)}.json`, body: img.config },
    { name: 'repositories', body: '{}' },
    ...(opts.extra ?? []),
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${hex(img.configDigest)}.json`, RepoTags: repoTags, Layers: layerNames }]) },
  ]);
}

/** An OCI layout archive: oci-layout, blobs/sha256/<hex> for every blob given, index.json. */
function ociArchive(blobs: Buffer[], manifests: object[], extra: TarEntry[] = []): Promise<Buffer> {
  return tarOf([
    { name: 'oci-layout', body: '{"imageLayoutVersion": "1.0.0"}' },
    { name: 'blobs/', type: 'directory' },
    ...blobs.map((b): TarEntry => ({ name: `blobs/sha256/${hex(sha256(b))}`, body: b })),
    ...extra,
    { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }) },
  ]);
}
const blobsOf = (img: TestImage) => [img.manifest, img.config, ...img.layers.map((l) => l.blob)];
const entryFor = (img: TestImage, annotations?: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: img.manifestDigest,
  size: img.manifest.length,
  ...(annotations ? { annotations } : {}),
});

test('docker save: names normalised, a Docker schema 2 manifest made for it, layer digest = diff ID, the per-layer json and VERSION not kept', withStore(async ({ dir, store, load }) => {
  const loaded = await load(await dockerSave(image, ['busybox:latest', 'example.com:5000/team/app:v1']));
  assert.is(loaded.length, 1);
  assert.equal(loaded[0]!.names, ['docker.io/library/busybox:latest', 'example.com:5000/team/app:v1']);
  assert.is(loaded[0]!.id, image.configDigest);
  const record = store.lookup('busybox')!;
  assert.is(record.manifestDigest, loaded[0]!.manifestDigest);
  assert.is(record.created, '2024-03-03T00:00:00Z');
  assert.is(readFileSync(join(record.layers[1]!, 'app', 'run'), 'utf8'), 'app/run\n');
  assert.equal(JSON.parse(store.content.readBlob(record.manifestDigest).toString()), {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.configDigest, size: image.config.length },
    layers: image.layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: l.diffID, size: l.tar.length })),
  });
  assert.equal(blobsIn(dir), [record.manifestDigest, image.configDigest, base.digest, app.digest].map(hex).sort());
  // Loading it again changes nothing.
  assert.equal((await load(await dockerSave(image, ['busybox:latest', 'example.com:5000/team/app:v1'])))[0]!.manifestDigest, record.manifestDigest);
  assert.is(store.list().length, 1);
}));

test('docker save with gzipped layers (other tools write them): the media type says so', withStore(async ({ store, load }) => {
  const gz = await layerOf(['z/file'], { gzip: true });
  const img = imageOf([base, gz]);
  const [loaded] = await load(await dockerSave(img, ['gz:1'], { layerNames: [`${hex(base.diffID)}.tar`, `${hex(gz.diffID)}.tar`] }));
  const manifest = JSON.parse(store.content.readBlob(loaded!.manifestDigest).toString());
  assert.equal(manifest.layers.map((l: { mediaType: string }) => l.mediaType), ['application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.docker.image.rootfs.diff.tar.gzip']);
  assert.is(readFileSync(join(store.lookup('gz:1')!.layers[1]!, 'z', 'file'), 'utf8'), 'z/file\n');
}));

test('a docker 25 save: blobs under blobs/sha256 and <id>/layer.tar symlinks to them; untagged images load dangling', withStore(async ({ store, load }) => {
  const archive = await tarOf([
    ...blobsOf(image).slice(1).map((b): TarEntry => ({ name: `blobs/sha256/${hex(sha256(b))}`, body: b })),
    ...image.layers.map((l): TarEntry => ({ name: `${hex(l.diffID)}/layer.tar`, type: 'symlink', linkname: `../blobs/sha256/${hex(l.digest)}` })),
    { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(image.configDigest)}`, RepoTags: null, Layers: image.layers.map((l) => `${hex(l.diffID)}/layer.tar`) }]) },
  ]);
  const [loaded] = await load(archive);
  assert.equal(loaded!.names, []);
  assert.equal(store.list().map((r) => [r.names, r.id]), [[[], image.configDigest]]);
}));

test('the whole archive gzipped (docker save | gzip) loads the same', withStore(async ({ store, load }) => {
  await load(gzipSync(await dockerSave(image, ['busybox:1'])));
  assert.is(store.lookup('busybox:1')?.id, image.configDigest);
}));

test('OCI archive: names from io.containerd.image.name, or from a full ref.name; a bare tag names nothing', withStore(async ({ store, load }) => {
  const other = imageOf([base], { created: '2024-01-01T00:00:00Z' });
  const third = imageOf([app]);
  const archive = await ociArchive([...blobsOf(image), other.manifest, other.config, third.manifest, third.config], [
    entryFor(image, { 'io.containerd.image.name': 'docker.io/library/busybox:1.36', 'org.opencontainers.image.ref.name': '1.36' }),
    entryFor(other, { 'org.opencontainers.image.ref.name': 'quay.io/org/other:2' }),
    entryFor(third, { 'org.opencontainers.image.ref.name': 'latest' }),
  ]);
  const loaded = await load(archive);
  assert.equal(loaded.map((l) => [l.names, l.manifestDigest]), [
    [['docker.io/library/busybox:1.36'], image.manifestDigest],
    [['quay.io/org/other:2'], other.manifestDigest],
    [[], third.manifestDigest],
  ]);
  assert.is(store.lookup('busybox:1.36')?.manifestDigest, image.manifestDigest);
  assert.equal(store.list().map((r) => r.names), [['docker.io/library/busybox:1.36'], ['quay.io/org/other:2'], []]);
}));

test('OCI archive whose entry is an index: this platform\'s manifest is taken, the index recorded', withStore(async ({ store, load }) => {
  const host = hostPlatform();
  const foreign = imageOf([app], { architecture: 's390x' });
  const native = imageOf([base, app], { architecture: host.architecture });
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...entryFor(foreign), platform: { os: 'linux', architecture: 's390x' } },
      { ...entryFor(native), platform: { os: 'linux', architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) } },
    ],
  }));
  const archive = await ociArchive([index, ...blobsOf(native), foreign.manifest], [
    { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index), size: index.length, annotations: { 'io.containerd.image.name': 'ghcr.io/org/multi:2' } },
  ]);
  const [loaded] = await load(archive);
  assert.is(loaded!.manifestDigest, native.manifestDigest);
  const record = store.lookup('ghcr.io/org/multi:2')!;
  assert.is(record.indexDigest, sha256(index));
  assert.is(record.platform, `linux/${host.architecture}`);
  await rejects(load(archive, { platform: { os: 'linux', architecture: 'riscv64' } }), new RegExp(`^load: index ${sha256(index).slice(0, 15)}… has no manifest for linux/riscv64$`));
}));

test('an OCI archive with docker\'s manifest.json beside it is read as OCI', withStore(async ({ store, load }) => {
  const archive = await ociArchive(blobsOf(image), [entryFor(image, { 'io.containerd.image.name': 'docker.io/library/both:1' })], [
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'missing.json', RepoTags: ['ignored:1'], Layers: [] }]) },
  ]);
  assert.equal((await load(archive)).map((l) => l.names), [['docker.io/library/both:1']]);
  assert.is(store.lookup('ignored:1'), null);
}));

const HOSTILE: [string, () => Promise<Buffer>, string][] = [
  ['an entry named with ..', () => tarOf([{ name: '../../evil', body: 'x' }]), 'load: archive entry "../../evil" is not a relative path inside the archive'],
  ['an entry named with .. further in', () => tarOf([{ name: 'blobs/../../evil', body: 'x' }]), 'load: archive entry "blobs/../../evil" is not a relative path inside the archive'],
  ['an absolute entry name', () => tarOf([{ name: '/tmp/evil', body: 'x' }]), 'load: archive entry "/tmp/evil" is not a relative path inside the archive'],
  ['a hard link to a name outside', () => tarOf([{ name: 'layer.tar', type: 'link', linkname: '../../etc/passwd' }]), 'load: archive entry "layer.tar": a hard link to "../../etc/passwd", which is not a relative path inside the archive'],
  ['a layer through a symlink pointing out of the archive', async () => tarOf([
    { name: `${hex(image.configDigest)}.json`, body: image.config },
    { name: 'l1', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'l2', type: 'symlink', linkname: '../../outside' },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ['x:1'], Layers: ['l1', 'l2'] }]) },
  ]), 'load: manifest.json[0]: layer "l1" is not in the archive'],
  ['a blob whose content is not its name', async () => ociArchive([], [], [{ name: `blobs/sha256/${hex(base.digest)}`, body: 'not the layer' }]),
    `load: archive entry "blobs/sha256/${hex(base.digest)}": blob ${base.digest.slice(0, 15)}…: digest mismatch: got ${sha256('not the layer')}`],
  ['a blob named with another algorithm', async () => ociArchive(blobsOf(image), [{ ...entryFor(image), digest: `sha512:${'a'.repeat(128)}` }]),
    `load: index.json: manifests[0]: digest sha512:${'a'.repeat(128)}: only sha256 digests are supported`],
  ['a manifest.json naming a layer outside the archive', () => tarOf([
    { name: 'c.json', body: image.config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['../../etc/passwd', '/etc/shadow'] }]) },
  ]), 'load: manifest.json[0]: layer "../../etc/passwd" is not in the archive'],
  ['a manifest.json listing a config the archive lacks', () => tarOf([{ name: 'manifest.json', body: '[{"Config": "nope.json", "RepoTags": [], "Layers": []}]' }]), 'load: manifest.json[0]: config "nope.json" is not in the archive'],
  ['a RepoTag that is no name', () => dockerSave(image, ['Bad Name']), 'load: manifest.json[0]: RepoTags: invalid reference format: "Bad Name": invalid repository name "Bad Name"'],
  ['neither layout', () => tarOf(['readme.txt']), 'load: neither a docker save archive (no manifest.json) nor an OCI archive (no oci-layout, index.json)'],
  ['an unknown OCI layout version', () => tarOf([{ name: 'oci-layout', body: '{"imageLayoutVersion": "2.0.0"}' }, { name: 'index.json', body: '{}' }]), 'load: oci-layout: imageLayoutVersion must be "1.0.0"'],
  ['index.json without oci-layout', () => tarOf([{ name: 'index.json', body: '{}' }]), 'load: OCI archive without oci-layout'],
];
for (const [name, make, message] of HOSTILE) {
  test(`refused, nothing kept: ${name}`, withStore(async (ctx) => {
    const err = await rejects(ctx.load(await make()), /^load: /);
    assert.is(err.message, message);
    assertEmpty(ctx);
  }));
}

test('a refused entry stops the reading of the input, and the input is closed', withStore(async ({ store }) => {
  const archive = await tarOf([{ name: '../evil', body: 'x' }, { name: 'big', body: Buffer.alloc(1 << 20) }]);
  let read = 0;
  let closed = false;
  const input = (async function* () {
    try {
      for (let at = 0; at < archive.length; at += 4096) {
        read += 4096;
        yield archive.subarray(at, at + 4096);
      }
    } finally {
      closed = true;
    }
  })();
  await rejects(loadArchive(store, input, OPTS), /^load: archive entry "..\/evil" is not a relative path inside the archive$/);
  assert.ok(closed);
  assert.ok(read < archive.length / 4, `read ${read} of ${archive.length} bytes`);
}));

test('an entry larger than allowed is refused before it is read', withStore(async (ctx) => {
  const err = await rejects(ctx.load(await dockerSave(image, ['x:1']), { maxEntrySize: 100 }), /more than/);
  assert.is(err.message, `load: archive entry "${hex(base.diffID)}/layer.tar": ${base.tar.length} bytes, more than the 100 allowed`);
  assertEmpty(ctx);
}));

test('a truncated archive: refused, nothing kept', withStore(async (ctx) => {
  const archive = await dockerSave(image, ['x:1']);
  await rejects(ctx.load(archive.subarray(0, archive.length - 3000)), /^load: archive: layer is truncated: its tar stream ends inside an entry$/);
  assertEmpty(ctx);
}));

test('an image whose layer does not unpack to its diff ID: refused, nothing kept', withStore(async (ctx) => {
  const lying = imageOf([base, app], { diffIDs: [base.diffID, sha256('other')] });
  const err = await rejects(ctx.load(await ociArchive(blobsOf(lying), [entryFor(lying, { 'io.containerd.image.name': 'docker.io/library/liar:1' })])), /diff ID/);
  assert.is(err.message, `load: image ${lying.manifestDigest.slice(0, 15)}…: layer ${app.digest.slice(0, 15)}…: unpacked content has diff ID ${app.diffID}, the image config says ${sha256('other')}`);
  assertEmpty(ctx);
}));

test('a failed load keeps what was there before', withStore(async (ctx) => {
  await ctx.load(await dockerSave(image, ['keep:1']));
  await rejects(ctx.load(await tarOf(['junk.txt'])), /^load: neither/);
  assert.is(ctx.store.list().length, 1);
  assert.is(blobsIn(ctx.dir).length, 4);
}));

// Archives as real tools write them: an OCI layout made with umoci from a
// small rootfs, copied by skopeo into a docker-archive and an oci-archive.
const tools = ['umoci', 'skopeo'].every((t) => spawnSync('which', [t]).status === 0);
(tools ? test : test.skip)('archives written by skopeo (docker-archive, oci-archive) load, with the same image ID', withStore(async ({ tmp, store }) => {
  const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd: tmp, stdio: 'pipe' });
  const rootless = isRoot ? [] : ['--rootless'];
  run('umoci', 'init', '--layout', 'oci');
  run('umoci', 'new', '--image', 'oci:img');
  run('umoci', 'unpack', ...rootless, '--image', 'oci:img', 'bundle');
  mkdirSync(join(tmp, 'bundle', 'rootfs', 'etc'), { recursive: true });
  writeFileSync(join(tmp, 'bundle', 'rootfs', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n');
  run('umoci', 'repack', ...rootless, '--image', 'oci:img', 'bundle');
  run('umoci', 'config', '--image', 'oci:img', '--config.cmd', '/bin/true', '--config.exposedports', '8080/tcp', '--config.user', 'app');
  await skopeo(['copy', '--quiet', 'oci:oci:img', `docker-archive:${join(tmp, 'docker.tar')}:tools/docker:1`], { cwd: tmp });
  await skopeo(['copy', '--quiet', 'oci:oci:img', `oci-archive:${join(tmp, 'oci.tar')}:tools/oci:1`], { cwd: tmp });
  const [fromDocker] = await loadArchive(store, createReadStream(join(tmp, 'docker.tar')), OPTS);
  const [fromOci] = await loadArchive(store, createReadStream(join(tmp, 'oci.tar')), OPTS);
  assert.equal(fromDocker!.names, ['docker.io/tools/docker:1']);
  assert.equal(fromOci!.names, ['docker.io/tools/oci:1']);
  assert.is(fromDocker!.id, fromOci!.id);
  for (const name of ['tools/docker:1', 'tools/oci:1']) {
    const record = store.lookup(name)!;
    assert.equal(record.config.ExposedPorts, ['8080/tcp']);
    assert.is(record.config.User, 'app');
    assert.match(readInLayers(record.layers, '/etc/passwd') ?? '', /^app:x:1000:/m);
  }
}));
if (!tools) console.log('  skipping "archives written by skopeo": umoci or skopeo is not installed');

test.run();
