// The content store: a blob is stored only once its size and digest are
// right, and nothing of a wrong, short, long or interrupted one is left;
// a present blob is not read again; what a killed process left in ingest/
// is removed, what a live one holds is not.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContentStore, DigestError } from '../../../lib/image/content.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';
import { chunksOf, scriptCommand, sha256 } from '../../helpers/images.ts';

const { libc } = await openHost();
const child = new URL('../../helpers/store-child.ts', import.meta.url).pathname;

function withStore(fn: (store: ContentStore, dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minipod-content-'));
    try {
      await fn(new ContentStore(dir, libc), dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const blob = Buffer.from('x'.repeat(1234));
const digest = sha256(blob);
const short = `${digest.slice(0, 15)}…`;
const ingestFiles = (dir: string) => (existsSync(join(dir, 'ingest')) ? readdirSync(join(dir, 'ingest')) : []);

test('a blob streamed in chunks is stored under its digest, counted as it goes, and the ingest file is gone', withStore(async (store, dir) => {
  let counted = 0;
  assert.not.ok(store.hasBlob(digest));
  await store.ingest({ digest, size: blob.length }, chunksOf(blob, 100), (n) => (counted += n));
  assert.is(counted, 1234);
  assert.ok(store.hasBlob(digest));
  assert.is(store.blobPath(digest), join(dir, 'blobs', 'sha256', digest.slice(7)));
  assert.equal(readFileSync(store.blobPath(digest)), blob);
  assert.equal(store.readBlob(digest), blob);
  assert.equal(store.listBlobs(), [digest]);
  assert.is(store.blobSize(digest), 1234);
  assert.equal(ingestFiles(dir), []);
}));

test('a truncated body: DigestError, nothing stored, nothing left in ingest/', withStore(async (store, dir) => {
  const err = await rejects(store.ingest({ digest, size: blob.length }, chunksOf(blob.subarray(0, 1200))), /truncated/);
  assert.instance(err, DigestError);
  assert.is(err.message, `blob ${short}: expected 1234 bytes, got 1200 (truncated)`);
  assert.not.ok(store.hasBlob(digest));
  assert.equal(ingestFiles(dir), []);
}));

test('a body longer than announced is refused without reading it all', withStore(async (store, dir) => {
  let yielded = 0;
  const endless = (async function* () {
    for (;;) {
      yielded++;
      yield blob.subarray(0, 500);
    }
  })();
  const err = await rejects(store.ingest({ digest, size: blob.length }, endless), /got more/);
  assert.is(err.message, `blob ${short}: expected 1234 bytes, got more`);
  assert.is(yielded, 3);
  assert.not.ok(store.hasBlob(digest));
  assert.equal(ingestFiles(dir), []);
}));

test('the right size with other bytes: digest mismatch, nothing stored', withStore(async (store, dir) => {
  const other = Buffer.from('y'.repeat(1234));
  const err = await rejects(store.ingest({ digest, size: blob.length }, chunksOf(other)), /mismatch/);
  assert.instance(err, DigestError);
  assert.is(err.message, `blob ${short}: digest mismatch: got ${sha256(other)}`);
  assert.not.ok(store.hasBlob(digest));
  assert.not.ok(existsSync(join(dir, 'blobs', 'sha256', sha256(other).slice(7))));
  assert.equal(ingestFiles(dir), []);
}));

test('a body that fails half way (a dropped connection): its error, nothing left', withStore(async (store, dir) => {
  const dropped = (async function* () {
    yield blob.subarray(0, 600);
    throw new Error('socket hang up');
  })();
  await rejects(store.ingest({ digest, size: blob.length }, dropped), /^socket hang up$/);
  assert.not.ok(store.hasBlob(digest));
  assert.equal(ingestFiles(dir), []);
}));

test('a present blob is never fetched again: the body is not read', withStore(async (store) => {
  await store.ingest({ digest, size: blob.length }, chunksOf(blob));
  const untouchable = { [Symbol.asyncIterator]: () => { throw new Error('read a present blob'); } };
  await store.ingest({ digest, size: blob.length }, untouchable);
}));

const BAD_DIGESTS: [string, string][] = [
  ['sha512:' + 'a'.repeat(128), `blob: digest sha512:${'a'.repeat(128)}: only sha256 digests are supported`],
  ['sha256:' + 'A'.repeat(64), `blob: "sha256:${'A'.repeat(64)}" is not a sha256 digest (sha256:<64 lower-case hex digits>)`],
  ['sha256:abc', 'blob: "sha256:abc" is not a sha256 digest (sha256:<64 lower-case hex digits>)'],
  ['sha256:../../../etc/passwd', 'blob: "sha256:../../../etc/passwd" is not a sha256 digest (sha256:<64 lower-case hex digits>)'],
  [`sha256:${'a'.repeat(64)}/x`, `blob: "sha256:${'a'.repeat(64)}/x" is not a sha256 digest (sha256:<64 lower-case hex digits>)`],
  ['a'.repeat(64), `blob: "${'a'.repeat(64)}" is not a sha256 digest (sha256:<64 lower-case hex digits>)`],
];
for (const [bad, message] of BAD_DIGESTS) {
  test(`refused before any path is made of it: ${bad.slice(0, 30)}`, withStore(async (store, dir) => {
    await rejects(store.ingest({ digest: bad, size: 3 }, chunksOf(Buffer.from('abc'))), /digest/).then((err) => assert.is(err.message, message));
    assert.throws(() => store.hasBlob(bad), (err: Error) => err.message === message);
    assert.throws(() => store.readBlob(bad), (err: Error) => err.message === message);
    assert.equal(readdirSync(dir), []);
  }));
}

test('a size that is not a byte count is refused', withStore(async (store) => {
  await rejects(store.ingest({ digest, size: -1 }, chunksOf(blob)), /^blob sha256:[0-9a-f]{8}…: size -1 is not a byte count$/);
  await rejects(store.ingest({ digest, size: 1.5 }, chunksOf(blob)), /size 1.5 is not a byte count$/);
}));

test('ingestComputed stores content under the digest it has, up to a bound', withStore(async (store, dir) => {
  assert.equal(await store.ingestComputed(chunksOf(blob), 2000, 'entry x'), { digest, size: 1234 });
  assert.ok(store.hasBlob(digest));
  await rejects(store.ingestComputed(chunksOf(Buffer.alloc(3000)), 2000, 'entry y'), /^entry y: larger than the 2000 bytes allowed$/);
  assert.equal(store.listBlobs(), [digest]);
  assert.equal(ingestFiles(dir), []);
}));

test('writeBlob stores bytes made here; readBlob of an absent blob says so', withStore(async (store) => {
  assert.is(store.writeBlob(blob), digest);
  assert.is(store.writeBlob(blob), digest);
  assert.equal(store.readBlob(digest), blob);
  const absent = sha256('absent');
  assert.throws(() => store.readBlob(absent), (err: Error) => err.message === `blob ${absent} is not in the image store`);
}));

test('two concurrent ingests of one blob: both succeed, one blob', withStore(async (store, dir) => {
  await Promise.all([store.ingest({ digest, size: 1234 }, chunksOf(blob, 10)), store.ingest({ digest, size: 1234 }, chunksOf(blob, 7))]);
  assert.equal(store.listBlobs(), [digest]);
  assert.equal(ingestFiles(dir), []);
}));

test('a killed ingest leaves only its ingest file, which never counts and the next ingest removes', withStore(async (store, dir) => {
  const [cmd, pre] = scriptCommand(child);
  const stalled = execa(cmd, [...pre, dir, 'ingest-stall'], { reject: false });
  await new Promise<void>((resolve) => stalled.stdout!.on('data', (data: Buffer) => data.toString().includes('started') && resolve()));
  assert.is(ingestFiles(dir).length, 1);
  const [name] = ingestFiles(dir);
  // While its process lives, a new ingest leaves it alone.
  await store.ingest({ digest, size: 1234 }, chunksOf(blob));
  assert.equal(ingestFiles(dir), [name]);
  stalled.kill('SIGKILL');
  await stalled;
  assert.is(readFileSync(join(dir, 'ingest', name!)).length, 4096);
  assert.equal(store.listBlobs(), [digest]);
  await store.ingest({ digest: sha256('other'), size: 5 }, chunksOf(Buffer.from('other')));
  assert.equal(ingestFiles(dir), []);
}));

test('sweepIngest removes unheld files only: one flock(1) holds is kept', withStore(async (store, dir) => {
  mkdirSync(join(dir, 'ingest'));
  writeFileSync(join(dir, 'ingest', 'dead'), 'partial');
  writeFileSync(join(dir, 'ingest', 'live'), 'partial');
  const holder = spawn('flock', ['-o', join(dir, 'ingest', 'live'), 'sleep', '30'], { stdio: 'ignore', detached: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(store.sweepIngest(), ['dead']);
    assert.equal(ingestFiles(dir), ['live']);
  } finally {
    process.kill(-holder.pid!, 'SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
  }
  assert.equal(store.sweepIngest(), ['live']);
}));

test.run();
