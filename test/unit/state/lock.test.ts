// withLock: one holder at a time per state root, the lock file gone after
// the holder (also when it threw), a dead holder's lock taken over, a live
// or half-written one waited for and then refused.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { withLock } from '../../../lib/state/lock.ts';
import { rejects } from '../../helpers/assert.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Field 22 of /proc/self/stat, read independently of lib/state/process-ref.ts. */
function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** The pid of a process that ran and was reaped: nothing runs under it now. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

function withRoot(fn: (base: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'minipod-lock-'));
    try {
      await fn(base);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

test('creates a missing state root (mode 0700) and returns what fn returns', withRoot(async (base) => {
  const root = join(base, 'a', 'b', 'state');
  const result = await withLock(root, () => 42);
  assert.is(result, 42);
  assert.ok(statSync(root).isDirectory());
  assert.is(statSync(root).mode & 0o777, 0o700);
  assert.not.ok(existsSync(join(root, 'lock')), 'the lock file is gone after fn');
}));

test('while fn runs, the lock file names this process by pid and start time', withRoot(async (root) => {
  const seen = await withLock(root, () => JSON.parse(readFileSync(join(root, 'lock'), 'utf8')) as unknown);
  assert.equal(seen, { pid: process.pid, startTime: ownStartTime() });
  assert.is(statSync(root).isDirectory(), true);
  assert.not.ok(existsSync(join(root, 'lock')));
}));

test('concurrent holders never overlap', withRoot(async (root) => {
  const log: string[] = [];
  const holder = (name: string) => withLock(root, async () => {
    log.push(`enter ${name}`);
    await sleep(15);
    assert.ok(existsSync(join(root, 'lock')), `${name} holds the lock file`);
    await sleep(15);
    log.push(`leave ${name}`);
    return name;
  });
  const results = await Promise.all(['a', 'b', 'c', 'd'].map(holder));
  assert.equal(results, ['a', 'b', 'c', 'd']);
  assert.is(log.length, 8);
  for (let i = 0; i < log.length; i += 2) {
    const name = log[i]!.slice('enter '.length);
    assert.is(log[i], `enter ${name}`, `entry ${i} is an enter: ${log.join(', ')}`);
    assert.is(log[i + 1], `leave ${name}`, `the same holder leaves before anyone enters: ${log.join(', ')}`);
  }
  assert.is(new Set(log).size, 8, 'each holder entered once');
  assert.not.ok(existsSync(join(root, 'lock')));
}));

test('a synchronous fn is serialised too', withRoot(async (root) => {
  const log: string[] = [];
  const slow = withLock(root, async () => {
    log.push('enter slow');
    await sleep(30);
    log.push('leave slow');
  });
  const quick = withLock(root, () => {
    log.push('quick');
  });
  await Promise.all([slow, quick]);
  assert.equal(log, ['enter slow', 'leave slow', 'quick']);
}));

test('the lock file is removed when fn throws, and the error propagates', withRoot(async (root) => {
  const boom = new Error('boom');
  try {
    await withLock(root, async () => {
      await sleep(1);
      throw boom;
    });
    assert.unreachable('withLock should have rejected');
  } catch (err) {
    assert.is(err, boom, 'the very error fn threw');
  }
  assert.not.ok(existsSync(join(root, 'lock')));
  // and a synchronous throw
  await rejects(withLock(root, () => {
    throw new MinipodError('sync boom');
  }), /^sync boom$/);
  assert.not.ok(existsSync(join(root, 'lock')));
  // the next caller gets it at once
  const started = Date.now();
  assert.is(await withLock(root, () => 'next', 5_000), 'next');
  assert.ok(Date.now() - started < 1_000);
}));

test('a stale lock (its holder is dead) is taken over without waiting', withRoot(async (root) => {
  const pid = await deadPid();
  writeFileSync(join(root, 'lock'), JSON.stringify({ pid, startTime: '12345' }));
  const started = Date.now();
  const seen = await withLock(root, () => JSON.parse(readFileSync(join(root, 'lock'), 'utf8')) as unknown, 5_000);
  assert.ok(Date.now() - started < 1_000, 'no waiting for a dead holder');
  assert.equal(seen, { pid: process.pid, startTime: ownStartTime() }, 'the lock is ours now');
  assert.not.ok(existsSync(join(root, 'lock')));
}));

test('a lock naming a live pid with another start time (pid reused) is stale too', withRoot(async (root) => {
  const startTime = String(Number(ownStartTime()) + 1);
  writeFileSync(join(root, 'lock'), JSON.stringify({ pid: process.pid, startTime }));
  assert.is(await withLock(root, () => 'taken', 5_000), 'taken');
  assert.not.ok(existsSync(join(root, 'lock')));
}));

test('a lock held by a live process makes the caller wait, then fail with the holder and the wait', withRoot(async (root) => {
  const lock = join(root, 'lock');
  const holder = JSON.stringify({ pid: process.pid, startTime: ownStartTime() });
  writeFileSync(lock, holder);
  let ran = false;
  const started = Date.now();
  const err = await rejects(withLock(root, () => {
    ran = true;
  }, 200), /held by/);
  const waited = Date.now() - started;
  assert.instance(err, MinipodError);
  assert.is(err.message, `${root}/lock: held by pid ${process.pid} for more than 200 ms`);
  assert.ok(waited >= 200, `waited ${waited} ms`);
  assert.ok(waited < 2_000, `waited ${waited} ms`);
  assert.not.ok(ran, 'fn never ran');
  assert.is(readFileSync(lock, 'utf8'), holder, "the holder's lock is left alone");
}));

test('a caller waiting on a live holder gets the lock once it is released', withRoot(async (root) => {
  const lock = join(root, 'lock');
  writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime: ownStartTime() }));
  const released = sleep(100).then(() => rmSync(lock));
  const started = Date.now();
  assert.is(await withLock(root, () => 'got it', 5_000), 'got it');
  const waited = Date.now() - started;
  await released;
  assert.ok(waited >= 90, `waited ${waited} ms for the release`);
  assert.ok(waited < 2_000, `waited ${waited} ms`);
  assert.not.ok(existsSync(lock));
}));

test('an unparseable lock file (being written) counts as held', withRoot(async (root) => {
  for (const content of ['', '{"pid": 12']) {
    const lock = join(root, 'lock');
    writeFileSync(lock, content);
    const started = Date.now();
    const err = await rejects(withLock(root, () => 'never', 150), /held by/);
    assert.ok(Date.now() - started >= 150);
    assert.instance(err, MinipodError);
    assert.is(err.message, `${root}/lock: held by pid ? for more than 150 ms`);
    assert.is(readFileSync(lock, 'utf8'), content, 'not taken over');
    rmSync(lock);
  }
}));

test('a lock file that appears only partly written, then complete and stale, is taken over', withRoot(async (root) => {
  const lock = join(root, 'lock');
  writeFileSync(lock, '');
  const pid = await deadPid();
  const written = sleep(60).then(() => writeFileSync(lock, JSON.stringify({ pid, startTime: '1' })));
  assert.is(await withLock(root, () => 'ours', 5_000), 'ours');
  await written;
  assert.not.ok(existsSync(lock));
}));

test.run();
