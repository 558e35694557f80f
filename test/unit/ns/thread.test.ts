import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { ThreadNamespaces } from '../../../lib/ns/thread.ts';
import { CLONE_FS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS } from '../../../lib/sys/constants.ts';
import { FakeLibc } from '../../../lib/sys/fake.ts';
import { Libc } from '../../../lib/sys/libc.ts';

const EPERM = 1;

test('save opens the thread namespaces and cwd', () => {
  const fake = new FakeLibc();
  ThreadNamespaces.save(new Libc(fake));
  const opened = fake.calls.map(([, path]) => path);
  assert.equal(opened, [
    '/proc/thread-self/ns/mnt', '/proc/thread-self/ns/net', '/proc/thread-self/ns/ipc',
    '/proc/thread-self/ns/uts', '/proc/thread-self/ns/pid', '.',
  ]);
});

test('run first gives the thread its own fs_struct (each time: threads started later share it again), then returns to every saved namespace, mount first, then the cwd', () => {
  const fake = new FakeLibc();
  const threads = ThreadNamespaces.save(new Libc(fake));
  fake.calls.length = 0;
  assert.is(threads.run(() => 42), 42);
  assert.equal(fake.calls[0], ['unshare', CLONE_FS]);
  assert.equal(fake.calls.slice(1).map(([name, , nstype]) => (name === 'setns' ? nstype : name)), [
    CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID, 'fchdir',
  ]);
  threads.run(() => 0);
  assert.is(fake.calls.filter(([name]) => name === 'unshare').length, 2);
});

test('run restores even when the work throws, and rethrows the work error', () => {
  const fake = new FakeLibc();
  const threads = ThreadNamespaces.save(new Libc(fake));
  fake.calls.length = 0;
  assert.throws(() => threads.run(() => { throw new Error('boom'); }), /boom/);
  assert.is(fake.names().filter((n) => n === 'setns').length, 5);
});

test('a failed return is fatal and says so', () => {
  const fake = new FakeLibc();
  const threads = ThreadNamespaces.save(new Libc(fake));
  fake.failOn('setns', EPERM);
  try {
    threads.run(() => 1);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MinipodError);
    assert.is((err as Error).message, 'cannot return the runtime thread to its own namespaces: setns(/proc/thread-self/ns/mnt, CLONE_NEWNS): EPERM');
    assert.match(String((err as Error).cause), 'setns(/proc/thread-self/ns/mnt, CLONE_NEWNS): EPERM');
  }
});

test('close releases every descriptor', () => {
  const fake = new FakeLibc();
  const threads = ThreadNamespaces.save(new Libc(fake));
  fake.calls.length = 0;
  threads.close();
  assert.equal(fake.names(), ['close', 'close', 'close', 'close', 'close', 'close']);
});

test.run();
