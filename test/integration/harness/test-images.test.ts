// The test images: their layouts hold what the specs say (digests,
// diff_ids, media types), they come out the same when built twice, and a
// real unpacker (umoci, Go's archive/tar) makes of the feature image the
// tree FEATURE_TREE describes; the busybox layers run /bin/sh.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { extract } from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../../helpers/assert.ts';
import { buildImage, buildIndex, hostPlatform, readBlob, readLayerTar, REF_NAME, sha256 } from '../../helpers/oci-layout.ts';
import {
  busyboxEntries,
  busyboxImage,
  busyboxLayers,
  FEATURE_TREE,
  featureImage,
  foreignPlatform,
  multiPlatformImages,
  sharedBaseImage,
  treeDifferences,
} from '../../helpers/test-images.ts';

const isRoot = process.getuid?.() === 0;
const tmp = mkdtempSync(join(tmpdir(), 'minipod-test-images-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const dir = (name: string) => join(tmp, name);

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await fn();
  console.log(`    ${label}: ${Math.round(performance.now() - t0)} ms`);
  return value;
}

const names = (layer: { entries: { type: string; path?: string }[] }) => layer.entries.map((e) => e.path ?? '');

test('busyboxLayers(n) splits the rootfs: bin/ first, then sbin/ usr/ linuxrc, then etc/ and the rest; extra layers add /etc/layer-K', () => {
  const all = busyboxEntries().map((e) => ('path' in e ? e.path : ''));
  assert.ok(all.includes('bin/busybox') && all.includes('etc/passwd') && all.includes('usr/bin'), 'the rootfs is read');
  const three = busyboxLayers(3).map(names);
  assert.ok(three[0]!.every((p) => p === 'bin' || p.startsWith('bin/')), three[0]!.join(' '));
  assert.ok(three[0]!.includes('bin/busybox') && three[0]!.includes('bin/sh'));
  assert.ok(three[1]!.every((p) => /^(sbin|usr|linuxrc)(\/|$)/.test(p)), three[1]!.join(' '));
  assert.ok(three[2]!.includes('etc/passwd') && three[2]!.includes('etc/group') && three[2]!.includes('tmp'));
  assert.equal(three.flat().sort(), [...all].sort());
  assert.equal(busyboxLayers(1)[0]!.entries.map((e) => ('path' in e ? e.path : '')), all);
  const five = busyboxLayers(5).map(names);
  assert.equal([five[3], five[4]], [['etc/layer-4'], ['etc/layer-5']]);
  assert.throws(() => busyboxLayers(0), /at least one layer, not 0/);
});

test('a built layout: oci-layout, index.json naming the ref, blobs named by their digest, diff_ids of the uncompressed layers', async () => {
  const image = await timed('build the feature image', () => buildImage(featureImage(), { dir: dir('feature'), ref: 'feature:1' }));
  assert.equal(JSON.parse(readFileSync(join(image.layoutDir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(image.layoutDir, 'index.json'), 'utf8'));
  assert.equal(index.manifests, [{ ...image.manifest, annotations: { [REF_NAME]: 'feature:1' } }]);
  for (const hex of readdirSync(join(image.layoutDir, 'blobs', 'sha256'))) {
    assert.is(sha256(readBlob(image.layoutDir, `sha256:${hex}`)), `sha256:${hex}`);
  }
  const manifest = JSON.parse(readBlob(image.layoutDir, image.manifest.digest).toString());
  assert.is(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(manifest.config, image.config);
  assert.equal(manifest.layers.map((l: { mediaType: string }) => l.mediaType), [
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+zstd',
    'application/vnd.oci.image.layer.v1.tar',
  ]);
  const config = JSON.parse(readBlob(image.layoutDir, image.config.digest).toString());
  const tars = await Promise.all(image.layers.map((l) => readLayerTar(image.layoutDir, l)));
  assert.equal(config.rootfs, { type: 'layers', diff_ids: tars.map(sha256) });
  assert.equal([config.os, config.architecture, config.created], ['linux', hostPlatform().architecture, '2024-01-01T00:00:00Z']);
  assert.equal(config.config, featureImage().config);
  assert.is(config.history.length, 5);
});

test('the same spec builds the same digests; a second ref in the same layout shares the blobs', async () => {
  const a = await buildImage(featureImage(), { dir: dir('twice-a') });
  const b = await buildImage(featureImage(), { dir: dir('twice-b') });
  assert.equal(b.manifest, a.manifest);
  assert.equal(b.layers, a.layers);
  const shared = await buildImage(sharedBaseImage(), { dir: dir('twice-a'), ref: 'shared' });
  assert.equal(shared.layers.slice(0, 2), a.layers.slice(0, 2));
  assert.is.not(shared.layers[2]!.digest, a.layers[2]!.digest);
  const refs = JSON.parse(readFileSync(join(dir('twice-a'), 'index.json'), 'utf8')).manifests.map((m: { annotations: Record<string, string> }) => m.annotations[REF_NAME]);
  assert.equal(refs, ['latest', 'shared']);
});

test('the feature image\'s layers hold the PAX xattr records, the whiteouts and the opaque marker', async () => {
  const image = await buildImage(featureImage(), { dir: dir('records') });
  const entries = async (i: number) => {
    const ex = extract();
    Readable.from([await readLayerTar(image.layoutDir, image.layers[i]!)]).pipe(ex);
    const out: { name: string; pax: Record<string, string> }[] = [];
    for await (const e of ex) {
      e.resume();
      out.push({ name: e.header.name, pax: (e.header.pax ?? {}) as Record<string, string> });
    }
    return out;
  };
  const cap = (await entries(3)).find((e) => e.name === 'feature/cap')!;
  assert.is(cap.pax['SCHILY.xattr.user.test'], 'hello xattr');
  assert.equal(Buffer.from(cap.pax['SCHILY.xattr.security.capability']!, 'latin1'), Buffer.from('0100000200040000000000000000000000000000', 'hex'));
  assert.equal((await entries(4)).map((e) => e.name), [
    'feature/.wh.deleted.txt',
    'bin/.wh.vi',
    'feature/opaque/',
    'feature/opaque/.wh..wh..opq',
    'feature/opaque/new',
  ]);
});

const umociSkip = !isRoot ? 'umoci unpack keeps owners and device nodes only as root' : null;

test('umoci (Go\'s archive/tar) unpacks the feature image into FEATURE_TREE, capability included', async () => {
  if (umociSkip) return console.log(`    skipped: ${umociSkip}`);
  // umoci 0.4.7 knows no zstd layers: the same layer gzipped has the same diff_id and content.
  const spec = featureImage();
  const image = await buildImage({ ...spec, layers: spec.layers.map((l) => ({ ...l, compression: l.compression === 'zstd' ? 'gzip' : l.compression })) }, { dir: dir('umoci') });
  const bundle = dir('umoci-bundle');
  const r = await timed('umoci unpack', () => execa('umoci', ['unpack', '--image', `${image.layoutDir}:latest`, bundle], { reject: false }));
  assert.is(r.exitCode, 0, r.stderr);
  const rootfs = join(bundle, 'rootfs');
  assert.equal(treeDifferences(rootfs, FEATURE_TREE), []);
  const getcap = await execa('getcap', [join(rootfs, 'feature/cap')], { reject: false });
  assert.is(getcap.stdout.trim(), `${join(rootfs, 'feature/cap')} cap_net_bind_service=ep`);
  const runtimeConfig = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  assert.equal(runtimeConfig.process.args, ['/bin/sh', '-c', 'cat /feature/kept.txt']);
  assert.is(runtimeConfig.process.cwd, '/feature');
  assert.ok(runtimeConfig.process.env.includes('FEATURE=on'));
});

test('treeDifferences reports what differs, one line each', () => {
  const rootfs = dir('umoci-bundle/rootfs');
  if (!existsSync(rootfs)) return console.log('    skipped: needs the umoci test\'s unpack');
  assert.equal(treeDifferences(rootfs, {
    'feature/kept.txt': { type: 'file', mode: 0o600, content: 'other\n' },
    'feature/a': { type: 'symlink', target: 'c' },
    'feature/absent': { type: 'file' },
    'feature/c': null,
  }), [
    'feature/kept.txt: mode 420 (0644), expected 384 (0600)',
    'feature/kept.txt: content "kept\\n", expected "other\\n"',
    'feature/a: target "b", expected "c"',
    'feature/absent: missing',
    'feature/c: present, should be gone',
  ]);
});

test('busyboxImage(3) unpacked runs /bin/sh (chroot, no mounts)', async () => {
  if (umociSkip) return console.log(`    skipped: ${umociSkip}`);
  const image = await buildImage(busyboxImage(3), { dir: dir('busybox') });
  const bundle = dir('busybox-bundle');
  const unpack = await execa('umoci', ['unpack', '--image', `${image.layoutDir}:latest`, bundle], { reject: false });
  assert.is(unpack.exitCode, 0, unpack.stderr);
  const r = await execa('chroot', [join(bundle, 'rootfs'), '/bin/sh', '-c', 'echo "$(id -un) $(cat /etc/group | head -1)"'], { reject: false });
  assert.equal([r.exitCode, r.stdout], [0, 'root root:x:0:'], r.stderr);
});

test('multi-platform index: linux/amd64 and linux/arm64/v8, this machine\'s on busybox, each naming itself in /platform', async () => {
  const built = await buildIndex(multiPlatformImages(), { dir: dir('index'), ref: 'multi' });
  const index = JSON.parse(readBlob(built.layoutDir, built.index.digest).toString());
  assert.is(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.manifests.map((m: { platform: object }) => m.platform), [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ]);
  const native = built.images.find((i) => i.platform.architecture === hostPlatform().architecture)!;
  const foreign = built.images.find((i) => i.platform.architecture === foreignPlatform().architecture)!;
  assert.equal([native.layers.length, foreign.layers.length], [3, 1]);
  assert.equal([native.configJson.architecture, foreign.configJson.architecture], [hostPlatform().architecture, foreignPlatform().architecture]);
  const platformFile = async (i: typeof native) => (await readLayerTar(i.layoutDir, i.layers.at(-1)!)).toString('latin1');
  assert.match(await platformFile(foreign), foreign.platform.architecture === 'arm64' ? 'linux/arm64/v8\n' : 'linux/amd64\n');
  const top = JSON.parse(readFileSync(join(built.layoutDir, 'index.json'), 'utf8')).manifests;
  assert.equal(top, [{ ...built.index, annotations: { [REF_NAME]: 'multi' } }]);
});

test('Docker media types: a schema 2 manifest and manifest list; zstd has none there', async () => {
  const image = await buildImage({ ...busyboxImage(2), mediaTypes: 'docker' }, { dir: dir('docker') });
  const manifest = JSON.parse(readBlob(image.layoutDir, image.manifest.digest).toString());
  assert.equal([manifest.mediaType, manifest.config.mediaType, manifest.layers[0].mediaType], [
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.docker.container.image.v1+json',
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ]);
  const list = await buildIndex(multiPlatformImages(), { dir: dir('docker-list'), mediaTypes: 'docker' });
  assert.is(JSON.parse(readBlob(list.layoutDir, list.index.digest).toString()).mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  await rejects(buildImage({ layers: [{ entries: [], compression: 'zstd' }], mediaTypes: 'docker' }, { dir: dir('docker-zstd') }), /Docker schema 2 has no media type for zstd layers/);
});

test.run();
