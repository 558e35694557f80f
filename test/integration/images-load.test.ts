// minipod load: a `docker save` tarball and an OCI archive, from a file and
// from standard input, listed by `images`, and a pod run from a loaded image
// without any registry (none is started here).
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { linesOf } from '../helpers/cli.ts';
import { dockerSaveArchive, ociArchive } from '../helpers/archives.ts';
import { blobsIn, imageCli, imagesJson, imageSuite, snapshotsIn, storeProblems } from '../helpers/image-cli.ts';
import { buildImage, type BuiltImage } from '../helpers/oci-layout.ts';
import { busyboxImage, FEATURE_TREE, featureImage, treeDifferences } from '../helpers/test-images.ts';

interface Env {
  tmp: string;
  feature: BuiltImage;
  busybox: BuiltImage;
  /** `docker save` of the feature image as example.com/feature:1. */
  dockerArchive: string;
  /** The feature image's layout as an OCI archive, named example.com/oci/feature:2. */
  ociNamed: string;
  /** An OCI archive whose only name is `latest`, which names no repository. */
  ociUnnamed: string;
  /** `docker save` of a 4-layer busybox as busy:1 (docker.io/library/busy:1). */
  busyArchive: string;
}

const { test, run } = imageSuite<Env>('minipod load of docker-save and OCI archives', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minipod-images-load-'));
  const feature = await buildImage(featureImage(), { dir: join(tmp, 'feature'), ref: 'example.com/oci/feature:2' });
  const unnamed = await buildImage(featureImage(), { dir: join(tmp, 'unnamed') });
  const busybox = await buildImage(busyboxImage(4), { dir: join(tmp, 'busybox') });
  const env = {
    tmp,
    feature,
    busybox,
    dockerArchive: join(tmp, 'feature-docker.tar'),
    ociNamed: join(tmp, 'feature-oci.tar'),
    ociUnnamed: join(tmp, 'unnamed-oci.tar'),
    busyArchive: join(tmp, 'busy-docker.tar'),
  };
  await dockerSaveArchive(feature, 'example.com/feature:1', env.dockerArchive);
  await dockerSaveArchive(busybox, 'busy:1', env.busyArchive);
  ociArchive(feature.layoutDir, env.ociNamed);
  ociArchive(unnamed.layoutDir, env.ociUnnamed);
  return env;
}, async (env) => {
  if (env) rmSync(env.tmp, { recursive: true, force: true });
});

const snapshotFs = (images: string, diffID: string) => join(images, 'snapshots', diffID.slice(7), 'fs');

test('a docker-save archive from a file: `Loaded image: NAME`, listed, its layers unpacked once each by diff ID', async ({ scratch, store, env }) => {
  const { feature } = env;
  const r = await imageCli(scratch, store.images, ['load', '-i', env.dockerArchive]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal([r.stdout, r.stderr], ['Loaded image: example.com/feature:1', '']);
  const [image, ...more] = await imagesJson(scratch, store.images);
  assert.equal(more, []);
  assert.equal([image!.names, image!.id, image!.configDigest], [['example.com/feature:1'], feature.config.digest, feature.config.digest]);
  assert.equal(snapshotsIn(store.images), feature.layers.map((l) => l.diffID).sort());
  // docker save holds the layers uncompressed: their blobs are the tars, named by diff ID.
  const layerBlobs = blobsIn(store.images).filter((d) => feature.layers.some((l) => l.diffID === d));
  assert.equal(layerBlobs, feature.layers.map((l) => l.diffID).sort());
  assert.ok(blobsIn(store.images).includes(feature.config.digest), 'the config is kept as it was');
  assert.equal(storeProblems(store.images), []);
  const table = await imageCli(scratch, store.images, ['images']);
  const row = table.stdout.split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3));
  assert.equal(row, [['example.com/feature', '1', feature.config.digest.slice(7, 19)]]);
  const quiet = await imageCli(scratch, store.images, ['load', '-q', '-i', env.dockerArchive]);
  assert.equal([quiet.exitCode, quiet.stdout], [0, feature.config.digest], 'loaded again, -q: the ID');
  assert.is((await imagesJson(scratch, store.images)).length, 1, 'the same image, not a second');
});

test('an OCI archive on standard input: the name its index gives, the layers as the layout has them (gzip, zstd, none)', async ({ scratch, store, env }) => {
  const { feature } = env;
  const r = await imageCli(scratch, store.images, ['load'], { inputFile: env.ociNamed });
  assert.is(r.exitCode, 0, r.all);
  assert.equal([r.stdout, r.stderr], ['Loaded image: example.com/oci/feature:2', '']);
  const [image] = await imagesJson(scratch, store.images);
  assert.equal([image!.names, image!.manifestDigest, image!.id], [['example.com/oci/feature:2'], feature.manifest.digest, feature.config.digest]);
  assert.equal(blobsIn(store.images), [feature.manifest.digest, feature.config.digest, ...feature.layers.map((l) => l.digest)].sort());
  assert.equal(snapshotsIn(store.images), feature.layers.map((l) => l.diffID).sort());
  const top = snapshotFs(store.images, feature.layers[4]!.diffID);
  assert.is(readFileSync(join(top, 'feature/opaque/new'), 'utf8'), 'from layer 5\n');
  assert.equal(storeProblems(store.images), []);
});

test('an OCI archive from a file whose index names no repository: `Loaded image ID: ...`, listed as <none>', async ({ scratch, store, env }) => {
  const r = await imageCli(scratch, store.images, ['load', '-i', env.ociUnnamed]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, `Loaded image ID: ${env.feature.config.digest}`);
  const table = await imageCli(scratch, store.images, ['images']);
  assert.equal(table.stdout.split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3)), [['<none>', '<none>', env.feature.config.digest.slice(7, 19)]]);
});

test('both archives of the same image: both names with the same image ID (as docker lists them), the layers shared', async ({ scratch, store, env }) => {
  for (const file of [env.dockerArchive, env.ociNamed]) {
    const r = await imageCli(scratch, store.images, ['load', '-i', file]);
    assert.is(r.exitCode, 0, r.all);
  }
  const images = await imagesJson(scratch, store.images);
  assert.equal(images.map((i) => [i.names, i.id]).sort(), [[['example.com/feature:1'], env.feature.config.digest], [['example.com/oci/feature:2'], env.feature.config.digest]]);
  assert.equal(snapshotsIn(store.images), env.feature.layers.map((l) => l.diffID).sort());
});

test('what is not an archive: one line, exit 125, nothing kept', async ({ scratch, store, env }) => {
  const absent = join(env.tmp, 'absent.tar');
  const missing = await imageCli(scratch, store.images, ['load', '-i', absent]);
  assert.equal([missing.exitCode, missing.stderr], [125, `minipod: load: ${absent}: ENOENT: no such file or directory, open '${absent}'`]);
  const garbage = await imageCli(scratch, store.images, ['load'], { input: Buffer.from('not a tar at all, just some bytes'.repeat(40)) });
  assert.is(garbage.exitCode, 125, garbage.all);
  assert.match(garbage.stderr, /^minipod: load: [^\n]*the input is not a docker save or OCI archive \(not a tar\)$/);
  assert.not.match(garbage.stderr, /load: .*load: /, `"load:" said once: ${garbage.stderr}`);
  assert.equal(blobsIn(store.images), []);
  assert.equal(storeProblems(store.images), []);
});

test('a pod runs from a loaded image, named as the archive names it (busy:1 is docker.io/library/busy:1), with no registry to ask', async ({ scratch, store, env }) => {
  const loaded = await imageCli(scratch, store.images, ['load', '-i', env.busyArchive]);
  assert.equal([loaded.exitCode, loaded.stdout], [0, 'Loaded image: busy:1'], loaded.all);
  const [image] = await imagesJson(scratch, store.images);
  assert.equal(image!.names, ['docker.io/library/busy:1']);
  const pod = (name: string, image: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image, command: ['sh', '-c', 'cat /etc/layer-4; echo $PATH'] }] },
  });
  for (const ref of ['busy:1', 'docker.io/library/busy:1']) {
    const r = await imageCli(scratch, store.images, ['run', scratch.manifest('pod.json', pod('loaded', ref))]);
    assert.is(r.exitCode, 0, `${ref}: ${r.all}`);
    assert.equal(linesOf(r.stdout, 'c'), ['layer 4', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ref);
  }
});

test('a pod on the loaded feature image sees FEATURE_TREE through its overlay', async ({ scratch, store, env }) => {
  const loaded = await imageCli(scratch, store.images, ['load', '-i', env.dockerArchive]);
  assert.is(loaded.exitCode, 0, loaded.all);
  // The container copies nothing: it prints what it sees, the test compares with what the host sees of the store.
  const paths = Object.keys(FEATURE_TREE);
  const script = paths.map((p) => `if [ -e /${p} ] || [ -L /${p} ]; then stat -c '%n %F %a %u:%g %Y' /${p}; else echo "/${p} absent"; fi`).join('; ');
  const file = scratch.manifest('pod.json', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'tree' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'example.com/feature:1', imagePullPolicy: 'Never', command: ['sh', '-c', script] }] },
  });
  const r = await imageCli(scratch, store.images, ['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const seen = linesOf(r.stdout, 'c');
  const want = paths.map((p) => {
    const e = FEATURE_TREE[p];
    if (!e) return `/${p} absent`;
    const kind = { file: 'regular file', dir: 'directory', symlink: 'symbolic link', char: 'character special file', fifo: 'fifo' }[e.type];
    return new RegExp(`^/${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${kind}${e.mode !== undefined ? ` ${e.mode.toString(8)}` : ' \\d+'} ${e.uid ?? '\\d+'}:${e.gid ?? '\\d+'} ${e.mtime ?? '\\d+'}$`);
  });
  assert.is(seen.length, want.length, seen.join('\n'));
  seen.forEach((line, i) => {
    const w = want[i]!;
    if (typeof w === 'string') assert.is(line, w);
    else assert.match(line, w, line);
  });
  assert.equal(treeDifferences(snapshotFs(store.images, env.feature.layers[2]!.diffID), { 'feature/kept.txt': FEATURE_TREE['feature/kept.txt']! }), []);
});

run();
