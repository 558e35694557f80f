import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sandboxNamespaces, startSandbox } from '../../../lib/sandbox/sandbox.ts';
import { F_SETFD, FD_CLOEXEC, O_CLOEXEC, O_RDONLY, CLONE_FS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_PRIVATE, MS_REC, SIOCSIFFLAGS } from '../../../lib/sys/constants.ts';
import { defaultFilterArg } from '../../../lib/security/filter-arg.ts';
import { fakeContext } from '../../helpers/fake-context.ts';

const host = { network: false, ipc: false, pid: false };
const spec = { hostname: 'web-0', shmDir: '/run/minipod/p1/shm', host, memoryVolumes: [], cgroupProcs: [], pauseRoot: '/run/minipod/p1/pause-root' };

test('creates every pod namespace in one unshare, on the runtime thread, then returns', () => {
  const { ctx, libc, spawner } = fakeContext();
  const sandbox = startSandbox(ctx, spec);
  // The status pipe the pause's helper reports on, then the thread's own fs_struct (see ThreadNamespaces.run).
  const [, flags, read, write] = libc.calls[0]!;
  assert.is(flags, O_CLOEXEC, 'a blocking pipe: the runtime waits for the helper to reach its exec');
  assert.equal(libc.calls[1], ['unshare', CLONE_FS]);
  assert.equal(libc.calls[2], ['unshare', CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID]);
  assert.equal(libc.calls[3], ['mount', null, '/', null, MS_REC | MS_PRIVATE, null]);
  assert.equal(libc.calls[4], ['mount', 'shm', '/run/minipod/p1/shm', 'tmpfs', 0xe, 'mode=1777,size=65536k']);
  assert.equal(libc.calls[5], ['sethostname', 'web-0']);
  // lo up: a socket in the new netns, read flags, set flags, close
  assert.equal(libc.names().slice(6, 10), ['socket', 'ioctl', 'ioctl', 'close']);
  assert.is(libc.calls[8]![2], SIOCSIFFLAGS);
  // the pod's mount namespace, held for the containers (the pause leaves it for an empty one)
  assert.equal(libc.calls[10], ['open', '/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC]);
  const mntFd = sandbox.mountNamespace;
  assert.not.ok(libc.calls.some(([n, fd]) => n === 'close' && fd === mntFd), 'held open for the containers');
  // the status pipe and the pause's sealed copy inherited by the helper alone
  assert.equal(libc.calls.slice(11, 15), [
    ['fcntl', write, F_SETFD, 0], ['fcntl', ctx.pauseFd, F_SETFD, 0], ['fcntl', write, F_SETFD, FD_CLOEXEC], ['fcntl', ctx.pauseFd, F_SETFD, FD_CLOEXEC],
  ]);
  // then back to the host's namespaces: five setns and the cwd
  assert.equal(libc.names().slice(15, 21), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  // its own write end closed, the pipe read to its end (the helper's exec closes the last one), then closed
  assert.equal(libc.calls.slice(21), [['close', write], ['read', read], ['close', read]]);
  assert.is(sandbox.pid, 1000);
  assert.is(sandbox.procfs, '/run/minipod/p1/pause-root', "the pod's procfs, in the pod's mount namespace");
  assert.equal(spawner.requests[0], {
    path: ctx.initExec, args: ['-a', '/pause', '-d', '-s', `${write}`, '-P', '/run/minipod/p1/pause-root', '-C', '0', '-n', '-S', defaultFilterArg(), '--', `/proc/self/fd/${ctx.pauseFd}`],
    env: {}, output: 'ignore',
  });
  sandbox.close();
  assert.equal(libc.calls.at(-1), ['close', mntFd]);
});

test('a failure after unshare still returns the thread to the host namespaces, and nothing is spawned', () => {
  const { ctx, libc, spawner } = fakeContext();
  libc.failOn('sethostname', 1);
  assert.throws(() => startSandbox(ctx, spec), /^sethostname\("web-0"\): EPERM$/);
  assert.equal(libc.names().slice(-8), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir', 'close', 'close'], 'then the status pipe closed');
  assert.is(spawner.requests.length, 0);
});

test("hostNetwork, hostIPC, hostPID each keep the host's namespace; hostNetwork keeps its UTS namespace and hostname too", () => {
  assert.is(sandboxNamespaces({ ...host, network: true }), CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID);
  assert.is(sandboxNamespaces({ ...host, ipc: true }), CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWPID);
  assert.is(sandboxNamespaces({ ...host, pid: true }), CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  const { ctx, libc } = fakeContext();
  startSandbox(ctx, { ...spec, host: { network: true, ipc: true, pid: true } });
  assert.equal(libc.calls[2], ['unshare', CLONE_NEWNS]);
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
