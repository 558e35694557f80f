import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startContainer } from '../../../lib/container/start.ts';
import { CLONE_FS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_BIND } from '../../../lib/sys/constants.ts';
import type { ContainerPlan } from '../../../lib/spec/plan-types.ts';
import { MASKED_PATHS, READONLY_PATHS } from '../../../lib/security/paths.ts';
import { containerPlan, fakeContext, tempRootfs } from '../../helpers/fake-context.ts';

const sandbox = { pid: 777, child: { pid: 777, stdout: null, stderr: null, exited: new Promise<never>(() => {}) }, mountNamespace: 55, procfs: '/pod/pause-root', close: () => {} };

function plan(rootfs: string): ContainerPlan {
  return containerPlan({ layers: [rootfs], argv: ['sh', '-c', 'echo hi'], env: { PATH: '/bin' }, workingDir: '/srv' });
}

const layer = { upper: '/l/upper', work: '/l/work', merged: '/l/rootfs' };
const pod = (more: { sharePid?: boolean; hostPid?: boolean } = {}) =>
  ({ sharePid: false, hostPid: false, shm: '/s', volumes: new Map(), layer, cgroupProcs: [] as string[], ...more });

/** The container's own unshare, after the thread's CLONE_FS one. */
const podUnshare = (calls: unknown[][]) => calls.findIndex(([n, flags]) => n === 'unshare' && flags !== CLONE_FS);

const setnsTargets = (calls: unknown[][]) => calls.filter(([n]) => n === 'setns').map(([, , nstype]) => nstype);

test('joins net, ipc, uts and the pod mount namespace, then gets its own mount and PID namespaces', () => {
  const { ctx, libc, spawner } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    startContainer(ctx, sandbox, pod(), plan(rootfs));
    const opened = libc.calls.filter(([n]) => n === 'open').map(([, p]) => p);
    // the pause's namespaces (the pod's mount namespace is the sandbox's descriptor, not the pause's), then the root
    // for each mount in it (/dev, /dev/pts, /dev/shm, /dev/mqueue, /sys), the working directory, /proc
    assert.equal(opened, ['/proc/777/ns/net', '/proc/777/ns/ipc', '/proc/777/ns/uts', ...Array(7).fill('/l/rootfs')]);
    const unshareAt = podUnshare(libc.calls);
    assert.equal(setnsTargets(libc.calls.slice(0, unshareAt)), [CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS]);
    assert.equal(libc.calls.find(([n, , nstype]) => n === 'setns' && nstype === CLONE_NEWNS)![1], sandbox.mountNamespace);
    assert.equal(libc.calls[unshareAt], ['unshare', CLONE_NEWNS | CLONE_NEWPID]);
    assert.ok(libc.names().indexOf('pivot_root') > unshareAt);
    const [, , , statusWrite] = libc.calls.find(([n]) => n === 'pipe2')!;
    const req = spawner.requests[0]!;
    assert.is(req.path, ctx.initExec);
    const masks = [...MASKED_PATHS.flatMap((p) => ['-k', p]), ...READONLY_PATHS.flatMap((p) => ['-o', p])];
    assert.equal(req.args, [
      '-d', '-p', '-s', `${statusWrite}`, '-w', '/srv', '-u', '0', '-g', '0', '-G', '0',
      // Docker's 14 capabilities, no_new_privs, the masked and read-only paths
      '-C', 'a80425fb', '-n', ...masks, '--', 'sh', '-c', 'echo hi',
    ]);
    assert.equal(req.env, { PATH: '/bin' });
    assert.is(req.output, 'pipe');
  } finally {
    remove();
  }
});

test('with shareProcessNamespace it joins the pause PID namespace instead of creating one', () => {
  const { ctx, libc } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    startContainer(ctx, sandbox, pod({ sharePid: true }), plan(rootfs));
    const unshareAt = podUnshare(libc.calls);
    assert.equal(setnsTargets(libc.calls.slice(0, unshareAt)), [CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID, CLONE_NEWNS]);
    assert.equal(libc.calls[unshareAt], ['unshare', CLONE_NEWNS]);
  } finally {
    remove();
  }
});

// Issue #6: a container allowed to ptrace, in the pod's PID namespace, can
// follow /proc/<helper>/root/proc/1/root while the helper runs: what is
// bound at /proc then must hold nothing of the host's.
test("the helper is exec'd from the pod's procfs when it joins the pod's PID namespace (or the host's), the host's only in a PID namespace of its own", () => {
  for (const [more, source] of [[{}, '/proc'], [{ sharePid: true }, sandbox.procfs], [{ hostPid: true }, sandbox.procfs]] as const) {
    const { ctx, libc } = fakeContext();
    const { rootfs, remove } = tempRootfs();
    try {
      startContainer(ctx, sandbox, pod(more), plan(rootfs));
      const pivot = libc.names().indexOf('pivot_root');
      const [, from, onto, ...rest] = libc.calls.slice(0, pivot).findLast(([n]) => n === 'mount')!;
      assert.equal([from, rest], [source, [null, MS_BIND, null]], JSON.stringify(more));
      assert.match(onto as string, /^\/proc\/self\/fd\/\d+$/, '/proc as resolved in the root');
    } finally {
      remove();
    }
  }
});

test('with hostPID it stays in the host PID namespace: a new mount namespace only', () => {
  const { ctx, libc } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    startContainer(ctx, sandbox, pod({ hostPid: true }), plan(rootfs));
    assert.equal(libc.calls[podUnshare(libc.calls)], ['unshare', CLONE_NEWNS]);
  } finally {
    remove();
  }
});

test('the user switch is left to the exec helper: uid, gid and every supplementary group', () => {
  const { ctx, spawner } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    startContainer(ctx, sandbox, pod(), containerPlan({ layers: [rootfs], user: { uid: 1000, gid: 3000, groups: [3000, 4000] } }));
    const args = spawner.requests[0]!.args;
    assert.equal(args.slice(args.indexOf('-u'), args.indexOf('-u') + 6), ['-u', '1000', '-g', '3000', '-G', '3000,4000']);
  } finally {
    remove();
  }
});

test('a failed pivot_root: the thread returns, no process, every descriptor closed', () => {
  const { ctx, libc, spawner } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    libc.failOn('pivot_root', 22);
    assert.throws(() => startContainer(ctx, sandbox, pod(), plan(rootfs)), /^pivot_root\(\., \.\): EINVAL$/);
    assert.is(spawner.requests.length, 0);
    const opened = libc.calls.filter(([n]) => n === 'open' || n === 'openat2' || n === 'pipe2').length + 1; // pipe2 opens two
    const closed = libc.names().filter((n) => n === 'close').length;
    assert.is(closed, opened);
    // back to the runtime's own namespaces and cwd, then the descriptors closed
    const after = libc.names().slice(libc.names().lastIndexOf('pivot_root') + 1);
    assert.equal(after.filter((n) => n !== 'close'), ['setns', 'setns', 'setns', 'setns', 'setns', 'fchdir']);
  } finally {
    remove();
  }
});

test('a rootfs whose /proc is a symlink is refused before any namespace work', async () => {
  const { ctx, libc } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  const { rmdirSync, symlinkSync } = await import('node:fs');
  try {
    rmdirSync(`${rootfs}/proc`);
    symlinkSync('/', `${rootfs}/proc`);
    assert.throws(() => startContainer(ctx, sandbox, pod(), plan(rootfs)), /\/proc must be a directory, found a symlink/);
    assert.equal(libc.calls, []);
  } finally {
    remove();
  }
});

test('a pause that is already gone is named as such, not as a bare ENOENT', () => {
  const { ctx, libc } = fakeContext();
  const { rootfs, remove } = tempRootfs();
  try {
    libc.failOn('open', 2, ([path]) => String(path).endsWith('/ns/net'));
    assert.throws(() => startContainer(ctx, sandbox, pod(), plan(rootfs)), /^the pod sandbox \(pause, pid 777\) is gone$/);
    assert.equal(libc.names().filter((n) => n === 'close').length, 2, 'the status pipe is closed');
  } finally {
    remove();
  }
});

test.run();
