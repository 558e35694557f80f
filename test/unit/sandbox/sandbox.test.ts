import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SANDBOX_NAMESPACES, startSandbox } from '../../../lib/sandbox/sandbox.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_PRIVATE, MS_REC, SIOCSIFFLAGS } from '../../../lib/sys/constants.ts';
import { fakeContext } from '../../helpers/fake-context.ts';

const spec = { hostname: 'web-0', shmDir: '/run/minipod/p1/shm' };

test('creates every pod namespace in one unshare, on the runtime thread, then returns', () => {
  const { ctx, libc, spawner } = fakeContext();
  const sandbox = startSandbox(ctx, spec);
  assert.is(SANDBOX_NAMESPACES, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID);
  assert.equal(libc.calls[0], ['unshare', SANDBOX_NAMESPACES]);
  assert.equal(libc.calls[1], ['mount', null, '/', null, MS_REC | MS_PRIVATE, null]);
  assert.equal(libc.calls[2], ['mount', 'shm', '/run/minipod/p1/shm', 'tmpfs', 0xe, 'mode=1777,size=65536k']);
  assert.equal(libc.calls[3], ['sethostname', 'web-0']);
  // lo up: a socket in the new netns, read flags, set flags, close
  assert.equal(libc.names().slice(4, 8), ['socket', 'ioctl', 'ioctl', 'close']);
  assert.is(libc.calls[6]![2], SIOCSIFFLAGS);
  // then back to the host's namespaces: five setns and the cwd
  assert.equal(libc.names().slice(8), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  assert.is(sandbox.pid, 1000);
  assert.equal(spawner.requests[0], { path: ctx.initExec, args: ['-a', '/pause', '-d', '--', '/bin/sh'], env: {}, output: 'ignore' });
});

test('a failure after unshare still returns the thread to the host namespaces, and nothing is spawned', () => {
  const { ctx, libc, spawner } = fakeContext();
  libc.failOn('sethostname', 1);
  assert.throws(() => startSandbox(ctx, spec), /^sethostname\("web-0"\): EPERM$/);
  assert.equal(libc.names().slice(-6), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  assert.is(spawner.requests.length, 0);
});

test.run();
