// The image store: commit and lookup (names, IDs, ID prefixes, digests),
// images sharing layers, names moving and images left dangling, removal
// with leases, garbage collection keeping what is shared or held, prune,
// and concurrent commits from two async flows and from two processes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ImageRecord, ImageStore } from '../../../lib/image/store.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';
import { BASE_ENTRIES, chunksOf, imageOf, layerOf, putImage, scriptCommand, sha256, type TestImage, testUnpack } from '../../helpers/images.ts';

const { libc } = await openHost();
const child = new URL('../../helpers/store-child.ts', import.meta.url).pathname;

interface Ctx {
  dir: string;
  store: ImageStore;
  /** A pod state directory (exists until removed) for leases. */
  podDir: (name: string) => string;
}

function withStore(fn: (ctx: Ctx) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minipod-store-'));
    try {
      const podDir = (name: string) => {
        const path = join(dir, 'pods', name);
        mkdirSync(path, { recursive: true });
        return path;
      };
      await fn({ dir: join(dir, 'images'), store: new ImageStore(join(dir, 'images'), { libc, unpack: testUnpack }), podDir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const base = await layerOf(BASE_ENTRIES);
const app = await layerOf(['app/bin/server', 'app/etc/conf'], { gzip: true });
const tools = await layerOf(['usr/bin/tool']);
/** base + app: 2 layers. */
const appImage = imageOf([base, app], {
  created: '2024-05-01T10:00:00Z',
  config: { Env: ['PATH=/bin'], ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGQUIT', User: 'app' },
});
/** base + tools, newer: shares the base layer. */
const toolsImage = imageOf([base, tools], { created: '2024-06-01T10:00:00Z' });

async function commit(store: ImageStore, image: TestImage, names: string[]): Promise<ImageRecord> {
  await putImage(store, image);
  return store.commitImage({ names, manifestDigest: image.manifestDigest });
}

const hexes = (dir: string, sub: string) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort() : []);
const hexOf = (...digests: string[]) => digests.map((d) => d.slice(7)).sort();

test('commit, then lookup by name, short name, ID, ID prefix (with and without sha256:) and manifest digest', withStore(async ({ dir, store }) => {
  const record = await commit(store, appImage, ['docker.io/library/app:1.0']);
  const snapshot = (l: { diffID: string }) => join(dir, 'snapshots', l.diffID.slice(7), 'fs');
  assert.equal(record, {
    names: ['docker.io/library/app:1.0'],
    manifestDigest: appImage.manifestDigest,
    configDigest: appImage.configDigest,
    id: appImage.configDigest,
    created: '2024-05-01T10:00:00Z',
    size: 'bin/sh\netc/passwd\netc/group\napp/bin/server\napp/etc/conf\n'.length,
    layers: [snapshot(base), snapshot(app)],
    config: {
      Entrypoint: undefined,
      Cmd: ['/bin/sh'],
      Env: ['PATH=/bin'],
      WorkingDir: undefined,
      User: 'app',
      ExposedPorts: ['80/tcp', '53/udp'],
      Volumes: ['/data'],
      StopSignal: 'SIGQUIT',
    },
    platform: 'linux/amd64',
  });
  const id = appImage.configDigest;
  for (const ref of ['docker.io/library/app:1.0', 'app:1.0', 'library/app:1.0', id, id.slice(7), id.slice(0, 10), id.slice(7, 10), appImage.manifestDigest]) {
    assert.is(store.lookup(ref)?.manifestDigest, appImage.manifestDigest, ref);
  }
  for (const ref of ['app', 'app:2.0', 'other', id.slice(7, 9), 'sha256:', sha256('nothing'), 'Not A Name!', `app@${sha256('nothing')}`]) {
    assert.is(store.lookup(ref), null, ref);
  }
  assert.is(store.lookup(`app@${appImage.manifestDigest}`)?.names[0], 'docker.io/library/app:1.0');
}));

test('an ID prefix that two images share is ambiguous', withStore(async ({ store }) => {
  // Configs differing only in `created` until two IDs share their first 3 hex digits.
  const seen = new Map<string, TestImage>();
  let pair: [TestImage, TestImage] | undefined;
  for (let i = 0; !pair; i++) {
    const image = imageOf([base], { created: new Date(i * 1000).toISOString() });
    const prefix = image.configDigest.slice(7, 10);
    const other = seen.get(prefix);
    if (other) pair = [other, image];
    else seen.set(prefix, image);
  }
  await commit(store, pair[0], ['docker.io/library/one:latest']);
  await commit(store, pair[1], ['docker.io/library/two:latest']);
  const prefix = pair[0].configDigest.slice(7, 10);
  assert.throws(() => store.lookup(prefix), (err: Error) => err.message === `image ID prefix "${prefix}" is ambiguous: it matches 2 images`);
  assert.is(store.lookup(pair[1].configDigest.slice(7, 20))?.names[0], 'docker.io/library/two:latest');
}));

test('images sharing a layer share its snapshot; list is newest first', withStore(async ({ dir, store }) => {
  await commit(store, appImage, ['docker.io/library/app:1.0']);
  await commit(store, imageOf([tools]), ['docker.io/library/undated:1']);
  await commit(store, toolsImage, ['docker.io/library/tools:1', 'quay.io/org/tools:1']);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, app.diffID, tools.diffID));
  const list = store.list();
  assert.equal(list.map((r) => r.names), [['docker.io/library/tools:1', 'quay.io/org/tools:1'], ['docker.io/library/app:1.0'], ['docker.io/library/undated:1']]);
  assert.is(list[0]!.layers[0], list[1]!.layers[0]);
  const json = JSON.parse(readFileSync(join(dir, 'repositories.json'), 'utf8'));
  assert.equal(json.names['quay.io/org/tools:1'], { manifestDigest: toolsImage.manifestDigest, platform: 'linux/amd64' });
  assert.equal(json.dangling, []);
}));

test('commit refuses what is not all there or does not fit', withStore(async ({ store }) => {
  const m = appImage.manifestDigest;
  const short = `${m.slice(0, 15)}…`;
  await rejects(store.commitImage({ names: [], manifestDigest: m }), new RegExp(`^blob ${m} is not in the image store$`));
  for (const blob of [appImage.manifest, appImage.config, base.blob, app.blob]) await store.content.ingest({ digest: sha256(blob), size: blob.length }, chunksOf(blob));
  await rejects(store.commitImage({ names: [], manifestDigest: m }), new RegExp(`^image ${short}: layer ${base.diffID.slice(0, 15)}… is not unpacked$`));
  await store.ensureLayers(m, { maxUnpackedSize: 1 << 20 });
  await rejects(store.commitImage({ names: ['app:1.0'], manifestDigest: m }), /^image name "app:1.0" is not canonical \(it would be "docker.io\/library\/app:1.0"\)$/);
  await rejects(store.commitImage({ names: [], manifestDigest: m, indexDigest: m }), new RegExp(`^index ${short}: is an image manifest, not an index$`));
  const wrong = imageOf([base, app], { diffIDs: [base.diffID] });
  for (const blob of [wrong.manifest, wrong.config]) await store.content.ingest({ digest: sha256(blob), size: blob.length }, chunksOf(blob));
  await rejects(store.commitImage({ names: [], manifestDigest: wrong.manifestDigest }), /: the config lists 1 diff IDs for the manifest's 2 layers$/);
  assert.equal(store.list(), []);
}));

test('a name moved to another image leaves the old one dangling; prune removes it and only what it alone used', withStore(async ({ dir, store }) => {
  await commit(store, appImage, ['docker.io/library/app:latest']);
  await commit(store, toolsImage, ['docker.io/library/app:latest']);
  assert.equal(store.list().map((r) => [r.names, r.id]), [[['docker.io/library/app:latest'], toolsImage.configDigest], [[], appImage.configDigest]]);
  assert.is(store.lookup(appImage.configDigest)?.names.length, 0);
  const pruned = await store.prune();
  assert.equal(pruned.images, [appImage.configDigest]);
  assert.equal(pruned.reclaimed.blobs.sort(), [appImage.manifestDigest, appImage.configDigest, app.digest].sort());
  assert.equal(pruned.reclaimed.snapshots, [app.diffID]);
  assert.is(pruned.reclaimed.bytes, appImage.manifest.length + appImage.config.length + app.blob.length + 'app/bin/server\napp/etc/conf\n'.length);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, tools.diffID));
  assert.equal(hexes(dir, 'blobs/sha256'), hexOf(toolsImage.manifestDigest, toolsImage.configDigest, base.digest, tools.digest));
  assert.equal(store.list().map((r) => r.names), [['docker.io/library/app:latest']]);
  // A second prune finds nothing.
  assert.equal(await store.prune(), { images: [], leases: [], leftovers: 0, reclaimed: { blobs: [], snapshots: [], bytes: 0 } });
}));

test('a name moved to the same config under another manifest (another format) leaves nothing dangling', withStore(async ({ store }) => {
  await commit(store, appImage, ['docker.io/library/app:1']);
  const docker = Buffer.from(appImage.manifest.toString().replace('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'));
  await store.content.ingest({ digest: sha256(docker), size: docker.length }, chunksOf(docker));
  await store.commitImage({ names: ['docker.io/library/app:1'], manifestDigest: sha256(docker) });
  assert.equal(store.list().map((r) => [r.names, r.manifestDigest]), [[['docker.io/library/app:1'], sha256(docker)]]);
  assert.equal((await store.collectGarbage()).blobs, [appImage.manifestDigest]);
  assert.is(store.lookup(appImage.configDigest)?.manifestDigest, sha256(docker));
}));

test('an image loaded without names is dangling from the start', withStore(async ({ store }) => {
  const record = await commit(store, appImage, []);
  assert.equal(record.names, []);
  assert.is(store.lookup(appImage.configDigest.slice(7, 19))?.manifestDigest, appImage.manifestDigest);
  assert.equal((await store.prune()).images, [appImage.configDigest]);
  assert.equal(store.list(), []);
}));

test('remove: a name of several only untags; the last name deletes; GC keeps the shared base until its last image goes', withStore(async ({ dir, store }) => {
  await commit(store, appImage, ['docker.io/library/app:1.0', 'docker.io/library/app:stable']);
  await commit(store, toolsImage, ['docker.io/library/tools:1']);
  assert.equal(await store.remove('app:stable'), { untagged: ['docker.io/library/app:stable'], deleted: [], reclaimed: { blobs: [], snapshots: [], bytes: 0 } });
  const removed = await store.remove('app:1.0');
  assert.equal(removed.untagged, ['docker.io/library/app:1.0']);
  assert.equal(removed.deleted, [appImage.configDigest]);
  assert.equal(removed.reclaimed.snapshots, [app.diffID]);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, tools.diffID));
  assert.ok(existsSync(join(dir, 'snapshots', base.diffID.slice(7), 'fs', 'bin', 'sh')));
  // By ID: every name goes, and with the last image the base layer.
  await store.commitImage({ names: ['docker.io/library/tools:2'], manifestDigest: toolsImage.manifestDigest });
  const last = await store.remove(toolsImage.configDigest.slice(7, 15));
  assert.equal(last.untagged, ['docker.io/library/tools:1', 'docker.io/library/tools:2']);
  assert.equal(last.reclaimed.snapshots.sort(), [base.diffID, tools.diffID].sort());
  assert.equal(hexes(dir, 'snapshots'), []);
  assert.equal(hexes(dir, 'blobs/sha256'), []);
  assert.equal(readdirSync(join(dir, 'snapshots')), []);
  await rejects(store.remove('app:1.0'), /^image "app:1.0" not found$/);
}));

test('rmi is refused while a live lease uses the image; a stale lease (pod directory gone) holds nothing', withStore(async ({ dir, store, podDir }) => {
  await commit(store, appImage, ['docker.io/library/redis:7']);
  const pod = podDir('3f2a9c1b7d4e');
  await store.addLease('3f2a9c1b7d4e', pod, [appImage.manifestDigest]);
  assert.equal(JSON.parse(readFileSync(join(dir, 'leases', '3f2a9c1b7d4e.json'), 'utf8')), { podDir: pod, images: [appImage.manifestDigest] });
  const err = await rejects(store.remove('redis:7'), /in use/);
  assert.is(err.message, 'image "redis:7" is in use by pod 3f2a9c1b7d4e');
  assert.is((err as { exitCode?: number }).exitCode, 125);
  await rejects(store.remove(appImage.configDigest), /^image "sha256:[0-9a-f]{64}" is in use by pod 3f2a9c1b7d4e$/);
  assert.is(store.lookup('redis:7')?.manifestDigest, appImage.manifestDigest);
  rmSync(pod, { recursive: true });
  assert.equal((await store.remove('redis:7')).deleted, [appImage.configDigest]);
  assert.equal((await store.prune()).leases, ['3f2a9c1b7d4e']);
  assert.not.ok(existsSync(join(dir, 'leases', '3f2a9c1b7d4e.json')));
}));

test('rmi --force of an image in use untags it and keeps it, nameless, until its pod goes; then prune removes it', withStore(async ({ dir, store, podDir }) => {
  await commit(store, appImage, ['docker.io/library/redis:7']);
  const pod = podDir('aaaa00001111');
  await store.addLease('aaaa00001111', pod, [appImage.manifestDigest]);
  assert.equal(await store.remove('redis:7', { force: true }), { untagged: ['docker.io/library/redis:7'], deleted: [], reclaimed: { blobs: [], snapshots: [], bytes: 0 } });
  assert.equal(store.list().map((r) => r.names), [[]]);
  assert.equal((await store.prune()).images, []);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, app.diffID));
  await store.removeLease('aaaa00001111');
  assert.equal((await store.prune()).images, [appImage.configDigest]);
  assert.equal(hexes(dir, 'snapshots'), []);
}));

test('a lease for an image the store no longer has is refused; lease ids and pod directories are checked', withStore(async ({ store, podDir }) => {
  await rejects(store.addLease('p1', podDir('p1'), [appImage.manifestDigest]), new RegExp(`^lease "p1": image ${appImage.manifestDigest} is no longer in the store$`));
  await rejects(store.addLease('../x', podDir('p1'), []), /^lease id "..\/x" must be 1-128 letters/);
  await rejects(store.addLease('p1', 'relative/dir', []), /^lease "p1": pod directory "relative\/dir" must be absolute$/);
}));

test('a hold keeps what a pull has fetched but not committed from a collection running meanwhile', withStore(async ({ dir, store }) => {
  await commit(store, toolsImage, ['docker.io/library/tools:1']);
  await store.withHold(async (protect) => {
    await protect([appImage.manifestDigest, appImage.configDigest, base.digest, base.diffID, app.digest, app.diffID]);
    await putImage(store, appImage);
    // Another client removes the only image using the base layer, and prunes.
    await store.remove('tools:1');
    await store.prune();
    assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, app.diffID));
    await store.commitImage({ names: ['docker.io/library/app:1'], manifestDigest: appImage.manifestDigest });
  });
  assert.equal(readdirSync(join(dir, 'leases')), []);
  assert.equal(store.list().map((r) => r.names), [['docker.io/library/app:1']]);
  // Unheld, the blobs of an uncommitted pull are garbage.
  await putImage(store, toolsImage);
  assert.equal((await store.prune()).reclaimed.snapshots, [tools.diffID]);
}));

test('prune removes what dead processes left: an unheld hold, an interrupted replacement, ingest and unpack leftovers', withStore(async ({ dir, store }) => {
  await commit(store, appImage, ['docker.io/library/app:1']);
  for (const d of ['leases/.hold-0123456789abcdef', 'ingest', 'snapshots/.tmp-0123456789abcdef/fs']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'leases', '.hold-0123456789abcdef', 'digests.json'), JSON.stringify([base.digest]));
  writeFileSync(join(dir, '.repositories.json.0123456789ab'), '{');
  writeFileSync(join(dir, 'leases', '.p1.json.0123456789ab'), '{');
  writeFileSync(join(dir, 'ingest', '0123456789abcdef'), 'partial');
  const pruned = await store.prune();
  assert.is(pruned.leftovers, 5);
  assert.equal(readdirSync(dir).sort(), ['blobs', 'ingest', 'leases', 'repositories.json', 'snapshots']);
  assert.equal(readdirSync(join(dir, 'leases')), []);
  assert.equal(readdirSync(join(dir, 'ingest')), []);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, app.diffID));
  assert.equal(readdirSync(join(dir, 'snapshots')).length, 2);
  assert.is(store.list().length, 1);
}));

test('two async flows commit images sharing layers at once: both land, one copy of the base', withStore(async ({ dir, store }) => {
  await Promise.all([
    commit(store, appImage, ['docker.io/library/app:1']),
    commit(store, toolsImage, ['docker.io/library/tools:1']),
  ]);
  assert.equal(store.list().map((r) => r.names[0]), ['docker.io/library/tools:1', 'docker.io/library/app:1']);
  assert.equal(hexes(dir, 'snapshots'), hexOf(base.diffID, app.diffID, tools.diffID));
  assert.equal(readdirSync(join(dir, 'snapshots')).filter((n) => n.startsWith('.')), []);
}));

test('two processes commit images sharing the base layer into one store: every name of both lands', withStore(async ({ dir, store }) => {
  const [cmd, pre] = scriptCommand(child);
  const run = (prefix: string) => execa(cmd, [...pre, dir, 'commit', prefix, '15'], { timeout: 60_000 });
  const [a, b] = await Promise.all([run('alpha'), run('beta')]);
  const names = store.list().flatMap((r) => r.names).sort();
  assert.is(names.length, 30);
  assert.ok(names.includes('docker.io/library/alpha-14:latest') && names.includes('docker.io/library/beta-0:latest'));
  assert.equal(store.list().map((r) => r.manifestDigest).sort(), [a.stdout, b.stdout].sort());
  const baseSnapshots = store.list().map((r) => r.layers[0]);
  assert.is(baseSnapshots[0], baseSnapshots[1]);
  assert.is(hexes(dir, 'snapshots').length, 3);
  assert.equal(readdirSync(join(dir, 'snapshots')).filter((n) => n.startsWith('.')), []);
  assert.equal(readdirSync(join(dir, 'leases')), []);
  assert.equal(readdirSync(join(dir, 'ingest')), []);
}));

test('repositories.json that is not the store\'s is an error naming it', withStore(async ({ dir, store }) => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'repositories.json');
  for (const [text, message] of [
    ['{"names": {}}', `${file}: must hold "names" and "dangling"`],
    ['{"names": {"x": {"manifestDigest": "sha256:00"}}, "dangling": []}', `${file}: names["x"] is not an image record`],
  ]) {
    writeFileSync(file, text!);
    assert.throws(() => store.list(), (err: Error) => err.message === message);
  }
}));

test.run();
