import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sandboxNamespaces, startSandbox } from '../../../lib/sandbox/sandbox.ts';
import { O_CLOEXEC, O_RDONLY, CLONE_FS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_PRIVATE, MS_REC, SIOCSIFFLAGS } from '../../../lib/sys/constants.ts';
import { fakeContext } from '../../helpers/fake-context.ts';

const host = { network: false, ipc: false, pid: false };
const spec = { hostname: 'web-0', shmDir: '/run/minipod/p1/shm', host, memoryVolumes: [], cgroupProcs: [], pauseRoot: '/run/minipod/p1/pause-root' };

test('creates every pod namespace in one unshare, on the runtime thread, then returns', () => {
  const { ctx, libc, spawner } = fakeContext();
  const sandbox = startSandbox(ctx, spec);
  // The thread's own fs_struct first (see ThreadNamespaces.run).
  assert.equal(libc.calls[0], ['unshare', CLONE_FS]);
  assert.equal(libc.calls[1], ['unshare', CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID]);
  assert.equal(libc.calls[2], ['mount', null, '/', null, MS_REC | MS_PRIVATE, null]);
  assert.equal(libc.calls[3], ['mount', 'shm', '/run/minipod/p1/shm', 'tmpfs', 0xe, 'mode=1777,size=65536k']);
  assert.equal(libc.calls[4], ['sethostname', 'web-0']);
  // lo up: a socket in the new netns, read flags, set flags, close
  assert.equal(libc.names().slice(5, 9), ['socket', 'ioctl', 'ioctl', 'close']);
  assert.is(libc.calls[7]![2], SIOCSIFFLAGS);
  // the pod's mount namespace, held for the containers (the pause leaves it for an empty one)
  assert.equal(libc.calls[9], ['open', '/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC]);
  const mntFd = sandbox.mountNamespace;
  assert.not.ok(libc.calls.some(([n, fd]) => n === 'close' && fd === mntFd), 'held open for the containers');
  // then back to the host's namespaces: five setns and the cwd
  assert.equal(libc.names().slice(10), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  assert.is(sandbox.pid, 1000);
  assert.equal(spawner.requests[0], {
    path: ctx.initExec, args: ['-a', '/pause', '-d', '-P', '/run/minipod/p1/pause-root', '--', ctx.pauseExec], env: {}, output: 'ignore',
  });
  sandbox.close();
  assert.equal(libc.calls.at(-1), ['close', mntFd]);
});

test('a failure after unshare still returns the thread to the host namespaces, and nothing is spawned', () => {
  const { ctx, libc, spawner } = fakeContext();
  libc.failOn('sethostname', 1);
  assert.throws(() => startSandbox(ctx, spec), /^sethostname\("web-0"\): EPERM$/);
  assert.equal(libc.names().slice(-6), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  assert.is(spawner.requests.length, 0);
});

test("hostNetwork, hostIPC, hostPID each keep the host's namespace; hostNetwork keeps its UTS namespace and hostname too", () => {
  assert.is(sandboxNamespaces({ ...host, network: true }), CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID);
  assert.is(sandboxNamespaces({ ...host, ipc: true }), CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWPID);
  assert.is(sandboxNamespaces({ ...host, pid: true }), CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  const { ctx, libc } = fakeContext();
  startSandbox(ctx, { ...spec, host: { network: true, ipc: true, pid: true } });
  assert.equal(libc.calls[1], ['unshare', CLONE_NEWNS]);
  assert.not.ok(libc.names().includes('sethostname'));
  assert.not.ok(libc.names().includes('socket'), 'the host loopback is left alone');
  assert.not.ok(libc.calls.some(([n, , , fstype]) => n === 'mount' && fstype === 'tmpfs'), "hostIPC: the host's /dev/shm, no tmpfs of the pod's");
});

test('memory emptyDirs are tmpfs in the pod mount namespace, sized by sizeLimit', () => {
  const { ctx, libc } = fakeContext();
  startSandbox(ctx, { ...spec, memoryVolumes: [{ dir: '/pod/volumes/a', sizeBytes: 1048576n }, { dir: '/pod/volumes/b', sizeBytes: null }] });
  const tmpfs = libc.calls.filter(([n, source]) => n === 'mount' && source === 'tmpfs');
  assert.equal(tmpfs, [
    ['mount', 'tmpfs', '/pod/volumes/a', 'tmpfs', 0x6, 'mode=0777,size=1048576'],
    ['mount', 'tmpfs', '/pod/volumes/b', 'tmpfs', 0x6, 'mode=0777'],
  ]);
});

test.run();
