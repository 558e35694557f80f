// Snapshots: a layer unpacked once per diff ID, published complete by a
// rename; a wrong diff ID or a failed unpack leaves nothing; two unpacks of
// one layer at once end with one snapshot; removal copes with read-only
// directories and whiteout devices; leftovers of dead unpacks are swept.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContentStore, DigestError } from '../../../lib/image/content.ts';
import { removeTree, SnapshotStore, type Unpacker } from '../../../lib/image/snapshots.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';
import { isRoot } from '../../helpers/cli.ts';
import { chunksOf, layerOf, sha256, type TestLayer, testUnpack } from '../../helpers/images.ts';

const { libc } = await openHost();
const LIMIT = { maxUnpackedSize: 1 << 20 };

interface Ctx {
  dir: string;
  content: ContentStore;
  snapshots: SnapshotStore;
  /** The calls the unpacker got: the dest of each. */
  unpacks: string[];
  put: (layer: TestLayer) => Promise<void>;
}

function withStore(fn: (ctx: Ctx) => Promise<void>, unpack: Unpacker = testUnpack): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minipod-snapshots-'));
    const unpacks: string[] = [];
    const content = new ContentStore(dir, libc);
    const counting: Unpacker = (blob, mediaType, dest, opts) => {
      unpacks.push(dest);
      return unpack(blob, mediaType, dest, opts);
    };
    try {
      await fn({
        dir,
        content,
        snapshots: new SnapshotStore(dir, content, libc, counting),
        unpacks,
        put: (l) => content.ingest({ digest: l.digest, size: l.blob.length }, chunksOf(l.blob)),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const snapshotNames = (dir: string) => (existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')).sort() : []);

test('ensure unpacks a gzipped layer once: fs has its files, layer.json what the unpacker found', withStore(async ({ dir, snapshots, unpacks, put }) => {
  const layer = await layerOf(['etc/hosts', 'usr/bin/app', { name: 'etc/.wh.gone' }, { name: 'var/.wh..wh..opq' }], { gzip: true });
  await put(layer);
  const fs = await snapshots.ensure(layer, LIMIT);
  assert.is(fs, join(dir, 'snapshots', layer.diffID.slice(7), 'fs'));
  assert.is(readFileSync(join(fs, 'etc', 'hosts'), 'utf8'), 'etc/hosts\n');
  assert.is(readFileSync(join(fs, 'usr', 'bin', 'app'), 'utf8'), 'usr/bin/app\n');
  assert.equal(JSON.parse(readFileSync(join(dir, 'snapshots', layer.diffID.slice(7), 'layer.json'), 'utf8')), {
    diffID: layer.diffID,
    size: 22,
    opaque: ['/var'],
    whiteouts: ['/etc/gone'],
  });
  assert.equal(snapshots.info(layer.diffID), { diffID: layer.diffID, size: 22, opaque: ['/var'], whiteouts: ['/etc/gone'] });
  assert.ok(snapshots.has(layer.diffID));
  assert.equal(snapshots.list(), [layer.diffID]);
  assert.is(await snapshots.ensure(layer, LIMIT), fs);
  assert.is(unpacks.length, 1);
  assert.equal(snapshotNames(dir), [layer.diffID.slice(7)]);
}));

test('a diff ID other than the config says: DigestError, nothing kept', withStore(async ({ dir, snapshots, put }) => {
  const layer = await layerOf(['a']);
  await put(layer);
  const claimed = sha256('another tar');
  const err = await rejects(snapshots.ensure({ ...layer, diffID: claimed }, LIMIT), /diff ID/);
  assert.instance(err, DigestError);
  assert.is(err.message, `layer ${layer.digest.slice(0, 15)}…: unpacked content has diff ID ${layer.diffID}, the image config says ${claimed}`);
  assert.equal(snapshotNames(dir), []);
  assert.not.ok(snapshots.has(claimed));
}));

test('an unpacker that fails half way leaves no directory behind', withStore(async ({ dir, snapshots, put }) => {
  const layer = await layerOf(['a']);
  await put(layer);
  await rejects(snapshots.ensure(layer, { maxUnpackedSize: 1 }), /^test unpacker: more than 1 bytes$/);
  assert.equal(snapshotNames(dir), []);
}));

test('a layer whose blob is absent is not unpacked', withStore(async ({ snapshots }) => {
  const layer = await layerOf(['a']);
  await rejects(snapshots.ensure(layer, LIMIT), new RegExp(`^layer ${layer.digest.slice(0, 15)}…: blob is not in the image store$`));
}));

test('two unpacks of one layer at once: both get the same snapshot, one directory, no leftovers', withStore(async ({ dir, snapshots, unpacks, put }) => {
  const layer = await layerOf(Array.from({ length: 50 }, (_, i) => `f${i}`));
  await put(layer);
  const [a, b] = await Promise.all([snapshots.ensure(layer, LIMIT), snapshots.ensure(layer, LIMIT)]);
  assert.is(a, b);
  assert.is(unpacks.length, 2); // both raced; the loser's copy went
  assert.equal(snapshotNames(dir), [layer.diffID.slice(7)]);
  assert.is(readdirSync(a!).length, 50);
}));

test('detach hides a snapshot at once, destroy deletes it', withStore(async ({ dir, snapshots, put }) => {
  const layer = await layerOf(['a']);
  await put(layer);
  await snapshots.ensure(layer, LIMIT);
  const detached = snapshots.detach(layer.diffID)!;
  assert.not.ok(snapshots.has(layer.diffID));
  assert.equal(snapshots.list(), []);
  assert.match(detached.path, /\/snapshots\/\.tmp-[0-9a-f]{16}$/);
  // Held while it waits to be deleted: a sweep leaves it to its deleter.
  assert.equal(snapshots.sweepTemp(), []);
  snapshots.destroy(detached);
  assert.equal(snapshotNames(dir), []);
  assert.is(snapshots.detach(layer.diffID), null);
}));

test('sweepTemp removes the .tmp- directories nobody holds, not one flock(1) holds', withStore(async ({ dir, snapshots }) => {
  mkdirSync(join(dir, 'snapshots', '.tmp-dead', 'fs'), { recursive: true });
  mkdirSync(join(dir, 'snapshots', '.tmp-live', 'fs'), { recursive: true });
  mkdirSync(join(dir, 'snapshots', 'f'.repeat(64)), { recursive: true });
  const holder = spawn('flock', ['-o', join(dir, 'snapshots', '.tmp-live'), 'sleep', '30'], { stdio: 'ignore', detached: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(snapshots.sweepTemp(), ['.tmp-dead']);
    assert.equal(snapshotNames(dir), ['.tmp-live', 'f'.repeat(64)]);
  } finally {
    process.kill(-holder.pid!, 'SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
  }
}));

test('removeTree: read-only directories, and (as root) a whiteout device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipod-snapshots-'));
  try {
    mkdirSync(join(dir, 'layer', 'ro', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'layer', 'ro', 'deeper', 'file'), '');
    if (isRoot) execFileSync('mknod', [join(dir, 'layer', 'ro', 'wh'), 'c', '0', '0']);
    chmodSync(join(dir, 'layer', 'ro', 'deeper'), 0o555);
    chmodSync(join(dir, 'layer', 'ro'), 0o555);
    removeTree(join(dir, 'layer'));
    assert.not.ok(existsSync(join(dir, 'layer')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer.json that is not this layer\'s is an error naming it', withStore(async ({ dir, snapshots, put }) => {
  const layer = await layerOf(['a']);
  await put(layer);
  await snapshots.ensure(layer, LIMIT);
  const file = join(dir, 'snapshots', layer.diffID.slice(7), 'layer.json');
  writeFileSync(file, JSON.stringify({ diffID: sha256('x'), size: 1, opaque: [], whiteouts: [] }));
  assert.throws(() => snapshots.info(layer.diffID), (err: Error) => err.message === `snapshot of layer ${layer.diffID.slice(0, 15)}…: ${file} is not a layer record of that layer`);
}));

test.run();
