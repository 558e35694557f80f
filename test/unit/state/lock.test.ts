// withLock: one holder at a time per state root (flock), the lock file gone
// after the holder (also when it threw), a lock whose holder died free at
// once, a live holder waited for and then refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { withLock } from '../../../lib/state/lock.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const { libc } = await openHost();

function withRoot(fn: (root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'minipod-lock-'));
    try {
      await fn(join(base, 'state'));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

/** flock(1) holding `<root>/lock` in another process until killed. */
async function holder(root: string) {
  mkdirSync(root, { recursive: true });
  // -o: the lock stays with flock(1) itself, not with the sleep it runs.
  const child = spawn('flock', ['-o', join(root, 'lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
  while (!existsSync(join(root, 'lock'))) await sleep(5);
  await sleep(50); // flock(1) has the lock once it runs sleep
  /** flock(1) and its sleep, both: a process group of their own. */
  const kill = () => process.kill(-child.pid!, 'SIGKILL');
  return { kill, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

test('the root is made, fn runs and its value comes back, the lock file goes', withRoot(async (root) => {
  assert.is(await withLock(libc, root, () => 42), 42);
  assert.not.ok(existsSync(join(root, 'lock')));
  assert.ok(existsSync(root));
}));

test('the lock file goes when fn throws too, and the error comes through', withRoot(async (root) => {
  await rejects(withLock(libc, root, () => {
    throw new MinipodError('boom');
  }), /^boom$/);
  assert.not.ok(existsSync(join(root, 'lock')));
}));

test('two holders never overlap', withRoot(async (root) => {
  const log: string[] = [];
  const hold = (name: string) => withLock(libc, root, async () => {
    log.push(`${name} in`);
    await sleep(30);
    log.push(`${name} out`);
  });
  await Promise.all([hold('a'), hold('b'), hold('c')]);
  for (let i = 0; i < log.length; i += 2) assert.is(log[i]!.split(' ')[0], log[i + 1]!.split(' ')[0], log.join(', '));
}));

test('another process holding the lock: waited for, then refused with the file named', withRoot(async (root) => {
  const child = await holder(root);
  try {
    await rejects(withLock(libc, root, () => 1, 100), new RegExp(`^${join(root, 'lock')}: held by another minipod for more than 100 ms$`));
  } finally {
    child.kill();
    await child.exited;
  }
}));

test('a holder killed while holding it: the kernel frees the lock, the next one gets it at once', withRoot(async (root) => {
  const child = await holder(root);
  child.kill();
  await child.exited;
  const started = Date.now();
  assert.is(await withLock(libc, root, () => 'mine', 2000), 'mine');
  assert.ok(Date.now() - started < 500);
}));

test.run();
