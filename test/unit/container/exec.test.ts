// execInContainer: the exact calls `minipod exec` makes, over the recording
// fake: the container's namespace files opened, all joined on the runtime
// thread (inside ThreadNamespaces.run, mnt last), the exec helper spawned
// with its channels inherited, and every descriptor closed when it should be.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execInContainer } from '../../../lib/container/exec.ts';
import { MinipodError } from '../../../lib/errors.ts';
import { defaultFilterArg } from '../../../lib/security/filter-arg.ts';
import type { ContainerRecord } from '../../../lib/state/record.ts';
import {
  CLONE_FS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS,
  F_SETFD, FD_CLOEXEC, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY,
} from '../../../lib/sys/constants.ts';
import { SyscallError } from '../../../lib/sys/libc.ts';
import type { SpawnRequest } from '../../../lib/sys/process.ts';
import { fakeContext } from '../../helpers/fake-context.ts';

const PID = 555;
const PROCS = '/sys/fs/cgroup/minipod/pod/app/cgroup.procs';
const ENOENT = 2;
const EPERM = 1;
const EAGAIN = 11;
/** Docker's default capability set, as the state records it: a hex mask. */
const CAPS = 'a80425fb';

function container(fields: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    name: 'app', kind: 'app', image: 'busybox', imageID: '', restarts: 0, state: 'running', startedAt: 1,
    last: null, previous: null, usage: null, process: { pid: PID, startTime: '1' },
    exec: {
      env: { PATH: '/bin', HOME: '/home/me' }, user: { uid: 1000, gid: 3000, groups: [3000, 4000] }, workingDir: '/srv',
      capabilities: CAPS, noNewPrivs: false, seccomp: false,
    },
    cgroupProcs: [PROCS],
    ...fields,
  };
}

const ns = (kind: string) => `/proc/${PID}/ns/${kind}`;

/** fakeContext, with the fd each open returned by path, and the spawn as a marker among the calls. */
function setup() {
  const t = fakeContext();
  const fds = new Map<string, number>();
  const open = t.libc.open;
  t.libc.open = (path: string, flags: number) => {
    const fd = open(path, flags);
    if (fd >= 0) fds.set(path, fd);
    return fd;
  };
  const spawn = t.spawner.spawn.bind(t.spawner);
  t.spawner.spawn = (request: SpawnRequest) => {
    t.libc.calls.push(['spawn', request.path]);
    return spawn(request);
  };
  const fd = (path: string) => {
    const n = fds.get(path);
    assert.ok(n !== undefined, `${path} was opened`);
    return n!;
  };
  const pipe = () => {
    const call = t.libc.calls.find(([name]) => name === 'pipe2');
    assert.ok(call, 'the status pipe was made');
    return { read: call![2] as number, write: call![3] as number };
  };
  const closed = () => t.libc.calls.filter(([name]) => name === 'close').map(([, n]) => n as number);
  /** Every descriptor the exec made: the pipe's two, and each successful open. */
  const made = () => [...Object.values(pipe()), ...fds.values()].sort((a, b) => a - b);
  return { ...t, fd, pipe, closed, made };
}

const RESTORE = [CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID];

test('the exact sequence: channels, namespace files, setns on the thread (mnt last), the helper, the closes', () => {
  const t = setup();
  const { child, takeStartError } = execInContainer(t.ctx, container(), PID, { argv: ['sh', '-c', 'id'], stdin: false, tty: null });
  const { read, write } = t.pipe();
  const [ipc, uts, net, pid, mnt] = ['ipc', 'uts', 'net', 'pid', 'mnt'].map((k) => t.fd(ns(k)));
  const cg = t.fd(PROCS);
  const calls = t.libc.calls;
  assert.equal(calls.slice(0, 18), [
    ['pipe2', O_CLOEXEC | O_NONBLOCK, read, write],
    ['open', PROCS, O_WRONLY | O_CLOEXEC],
    ['open', ns('ipc'), O_RDONLY | O_CLOEXEC],
    ['open', ns('uts'), O_RDONLY | O_CLOEXEC],
    ['open', ns('net'), O_RDONLY | O_CLOEXEC],
    ['open', ns('pid'), O_RDONLY | O_CLOEXEC],
    ['open', ns('mnt'), O_RDONLY | O_CLOEXEC],
    ['unshare', CLONE_FS],
    ['setns', ipc, CLONE_NEWIPC],
    ['setns', uts, CLONE_NEWUTS],
    ['setns', net, CLONE_NEWNET],
    ['setns', pid, CLONE_NEWPID],
    ['setns', mnt, CLONE_NEWNS],
    // the channels inherited by the helper only: close-on-exec off around the spawn
    ['fcntl', write, F_SETFD, 0],
    ['fcntl', cg, F_SETFD, 0],
    ['spawn', t.ctx.initExec],
    ['fcntl', write, F_SETFD, FD_CLOEXEC],
    ['fcntl', cg, F_SETFD, FD_CLOEXEC],
  ]);
  // ThreadNamespaces.run's return to the runtime's own namespaces, then the cwd
  assert.equal(calls.slice(18, 24).map(([name, , nstype]) => (name === 'setns' ? nstype : name)), [...RESTORE, 'fchdir']);
  // the joined namespaces' descriptors at once
  assert.equal(calls.slice(24), [['close', ipc], ['close', uts], ['close', net], ['close', pid], ['close', mnt]]);
  assert.is(child.pid, 1000);

  const req = t.spawner.requests[0]!;
  assert.is(t.spawner.requests.length, 1);
  assert.is(req.path, t.ctx.initExec);
  assert.match(req.path, /^\/proc\/self\/fd\/\d+$/, "resolved in the container's procfs, where the runtime's PID is not");
  assert.equal(req.args, [
    '-d', '-s', `${write}`, '-c', `${cg}`,
    '-w', '/srv', '-u', '1000', '-g', '3000', '-G', '3000,4000', '-C', CAPS, '--', 'sh', '-c', 'id',
  ]);
  assert.equal(req.env, { PATH: '/bin', HOME: '/home/me' });
  assert.is(req.output, 'inherit');
  assert.is(req.stdin, 'empty', 'without -i: nothing to read, and no /dev/null looked up in the container');

  const before = calls.length;
  assert.is(takeStartError(), null, 'nothing on the status pipe: the helper reached exec');
  assert.equal(calls.slice(before), [['read', read], ['close', read], ['close', write], ['close', cg]]);
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made(), 'every descriptor closed exactly once');
});

test('the runtime thread joins the namespaces only inside ThreadNamespaces.run', () => {
  const t = setup();
  execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null });
  const names = t.libc.names();
  const unshare = names.indexOf('unshare');
  const fchdir = names.indexOf('fchdir');
  const setns = names.flatMap((n, i) => (n === 'setns' ? [i] : []));
  assert.ok(unshare >= 0 && fchdir > unshare);
  assert.ok(setns.every((i) => i > unshare && i < fchdir), 'every setns between the fs_struct unshare and the return');
  assert.ok(names.indexOf('spawn') > unshare && names.indexOf('spawn') < fchdir, 'the helper forks in the namespaces');
});

// A regression guard: exec once joined the container's cgroup namespace on
// the runtime thread while ThreadNamespaces saves and restores only mnt, net,
// ipc, uts and pid, so the thread stayed in the pod's cgroup namespace after
// run() returned ("the runtime's own thread never stays in a pod").
test('every namespace joined on the runtime thread is returned from', () => {
  const t = setup();
  execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null });
  const calls = t.libc.calls;
  const spawnAt = t.libc.names().indexOf('spawn');
  const joined = calls.slice(0, spawnAt).filter(([n]) => n === 'setns').map(([, , nstype]) => nstype as number);
  const restored = calls.slice(spawnAt).filter(([n]) => n === 'setns').map(([, , nstype]) => nstype as number);
  for (const nstype of joined) {
    assert.ok(restored.includes(nstype), `the thread returns from namespace 0x${nstype.toString(16)} (joined: ${joined.map((n) => `0x${n.toString(16)}`)}, restored: ${restored.map((n) => `0x${n.toString(16)}`)})`);
  }
});

test('-i without a tty passes the runtime stdin', () => {
  const t = setup();
  execInContainer(t.ctx, container(), PID, { argv: ['cat'], stdin: true, tty: null });
  const req = t.spawner.requests[0]!;
  assert.is(req.stdin, 'inherit');
  assert.is(req.output, 'inherit');
  assert.not.ok(req.args.includes('-T'));
});

test('-t: the pseudo-terminal slave as -T, inherited, output inherited and stdin empty (the helper replaces them: nothing opened by path in the container), even with -i', () => {
  for (const stdin of [false, true]) {
    const t = setup();
    execInContainer(t.ctx, container(), PID, { argv: ['sh'], stdin, tty: 7 });
    const req = t.spawner.requests[0]!;
    const args = req.args;
    assert.equal(args.slice(args.indexOf('-T'), args.indexOf('-w')), ['-T', '7']);
    assert.ok(t.libc.calls.some(([n, fd, cmd, arg]) => n === 'fcntl' && fd === 7 && cmd === F_SETFD && arg === 0), 'inherited');
    assert.is(req.output, 'inherit');
    assert.is(req.stdin, 'empty', `no stdin with a tty (stdin: ${stdin})`);
    assert.not.ok(t.closed().includes(7), 'the tty belongs to the caller');
  }
});

test('no cgroups, no supplementary groups, no_new_privs and seccomp: no -c, no -G, but -n and -S', () => {
  const t = setup();
  const c = container({
    cgroupProcs: [],
    exec: { env: {}, user: { uid: 0, gid: 0, groups: [] }, workingDir: '/', capabilities: '1ffffffffff', noNewPrivs: true, seccomp: true },
  });
  const { takeStartError } = execInContainer(t.ctx, c, PID, { argv: ['ls', '-l'], stdin: false, tty: null });
  const { write } = t.pipe();
  const req = t.spawner.requests[0]!;
  assert.equal(req.args, ['-d', '-s', `${write}`, '-w', '/', '-u', '0', '-g', '0', '-C', '1ffffffffff', '-n', '-S', defaultFilterArg(), '--', 'ls', '-l']);
  assert.equal(req.env, {});
  takeStartError();
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test('two cgroup.procs files: one -c each, all closed by takeStartError', () => {
  const t = setup();
  const other = '/sys/fs/cgroup/memory/minipod/pod/app/cgroup.procs';
  const { takeStartError } = execInContainer(t.ctx, container({ cgroupProcs: [PROCS, other] }), PID, { argv: ['true'], stdin: false, tty: null });
  const args = t.spawner.requests[0]!.args;
  assert.equal(args.slice(args.indexOf('-c'), args.indexOf('-w')), ['-c', `${t.fd(PROCS)}`, '-c', `${t.fd(other)}`]);
  takeStartError();
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test("takeStartError returns the helper's failure from the status pipe", () => {
  const t = setup();
  const message = 'exec "nope": No such file or directory\n';
  // a read that fills the caller's buffer, as read(2) does (the fake's never does)
  Object.assign(t.libc, {
    read: (fd: number, buf: Uint8Array) => {
      t.libc.calls.push(['read', fd]);
      const bytes = new TextEncoder().encode(message);
      buf.set(bytes);
      return bytes.length;
    },
  });
  const { takeStartError } = execInContainer(t.ctx, container(), PID, { argv: ['nope'], stdin: false, tty: null });
  assert.is(takeStartError(), 'exec "nope": No such file or directory');
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test('takeStartError: an empty pipe (EAGAIN) is no error, and everything is closed', () => {
  const t = setup();
  const { takeStartError } = execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null });
  t.libc.failOn('read', EAGAIN);
  assert.is(takeStartError(), null);
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

for (const kind of ['ipc', 'pid', 'mnt']) {
  test(`a missing /proc/<pid>/ns/${kind}: "not running (pid gone)", everything opened closed, nothing joined or spawned`, () => {
    const t = setup();
    t.libc.failOn('open', ENOENT, ([path]) => path === ns(kind));
    let err: unknown;
    try {
      execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null });
    } catch (e) {
      err = e;
    }
    assert.instance(err, MinipodError);
    assert.is((err as Error).message, `container "app" is not running (pid ${PID} is gone)`);
    assert.instance((err as Error).cause, SyscallError);
    assert.is(((err as Error).cause as SyscallError).code, 'ENOENT');
    assert.is(t.spawner.requests.length, 0);
    assert.not.ok(t.libc.names().some((n) => n === 'setns' || n === 'unshare'), 'the thread never moved');
    assert.equal([...t.closed()].sort((a, b) => a - b), t.made(), 'the pipe, the cgroup.procs and the namespace files opened so far');
  });
}

test('another failure to open a namespace file (EACCES) is told as it is, not as a gone container', () => {
  const t = setup();
  t.libc.failOn('open', 13, ([path]) => path === ns('net'));
  let err: unknown;
  try {
    execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null });
  } catch (e) {
    err = e;
  }
  assert.instance(err, SyscallError);
  assert.is((err as Error).message, `open(${ns('net')}): EACCES`);
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test('a refused setns: the thread returns, no helper, every descriptor (mnt too) closed', () => {
  const t = setup();
  t.libc.failOn('setns', EPERM, ([fd]) => fd === t.fd(ns('pid')));
  assert.throws(
    () => execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null }),
    (err: Error) => err.message === `setns(${ns('pid')}, CLONE_NEWPID): EPERM`,
  );
  assert.is(t.spawner.requests.length, 0);
  const calls = t.libc.calls;
  const refused = calls.findIndex(([n, fd]) => n === 'setns' && fd === t.fd(ns('pid')));
  assert.equal(calls.slice(refused + 1, refused + 7).map(([name, , nstype]) => (name === 'setns' ? nstype : name)), [...RESTORE, 'fchdir'],
    'straight back to the runtime namespaces');
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test('a helper that cannot be spawned: the thread returns, every descriptor (mnt too) closed', () => {
  const t = setup();
  t.spawner.spawn = () => {
    throw new MinipodError('spawn /proc/self/fd/106: ENOEXEC');
  };
  assert.throws(() => execInContainer(t.ctx, container(), PID, { argv: ['true'], stdin: false, tty: null }), /ENOEXEC/);
  const fchdir = t.libc.names().indexOf('fchdir');
  assert.is(t.libc.names().filter((n) => n === 'setns').length, 5 + RESTORE.length, 'joined, then returned');
  assert.equal(t.libc.calls.slice(fchdir - 5, fchdir + 1).map(([name, , nstype]) => (name === 'setns' ? nstype : name)), [...RESTORE, 'fchdir']);
  assert.equal([...t.closed()].sort((a, b) => a - b), t.made());
});

test.run();
