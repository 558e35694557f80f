// cgroupArgs: each cgroup.procs opened on the host, handed to minipod-init as
// /proc/<runtime>/fd/N, closed once the child is gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupArgs } from '../../../lib/cgroup/join.ts';
import { O_CLOEXEC, O_WRONLY } from '../../../lib/sys/constants.ts';
import { fakeContext } from '../../helpers/fake-context.ts';

const EACCES = 13;
const PROCS = [
  '/sys/fs/cgroup/memory/minipod/pod1/app/cgroup.procs',
  '/sys/fs/cgroup/cpu/minipod/pod1/app/cgroup.procs',
  '/sys/fs/cgroup/pids/minipod/pod1/app/cgroup.procs',
];

/** A fake context, and the descriptor its next open returns (the fake counts up). */
function setup() {
  const fake = fakeContext();
  const next = fake.ctx.host.libc.open('/probe', 0) + 1;
  fake.libc.calls.length = 0;
  return { ...fake, next };
}

test('one O_WRONLY|O_CLOEXEC open per file, in order; -c N each, N for the helper to inherit', () => {
  const { ctx, libc, next: fd } = setup();
  const { args, fds, close } = cgroupArgs(ctx, PROCS);
  assert.equal(libc.calls, PROCS.map((file) => ['open', file, O_WRONLY | O_CLOEXEC]));
  assert.is(O_WRONLY | O_CLOEXEC, 0o2000001);
  assert.equal(args, ['-c', `${fd}`, '-c', `${fd + 1}`, '-c', `${fd + 2}`]);
  assert.equal(fds, [fd, fd + 1, fd + 2]);
  assert.equal(libc.calls.length, 3, 'nothing closed before close()');
  close();
  close();
  assert.equal(libc.calls.slice(3), [['close', fd], ['close', fd + 1], ['close', fd + 2]]);
});

test('no files (no cgroups): no open, no argument', () => {
  const { ctx, libc } = setup();
  const { args, close } = cgroupArgs(ctx, []);
  assert.equal(args, []);
  close();
  assert.equal(libc.calls, []);
});

test('a failing open: the ones already open are closed, the error thrown', () => {
  const { ctx, libc, next: fd } = setup();
  libc.failOn('open', EACCES, ([path]) => path === PROCS[2]);
  assert.throws(() => cgroupArgs(ctx, PROCS), (err: Error) => err.message === `open(${PROCS[2]}): EACCES`);
  // The two that opened, each closed once; the failed one is no descriptor.
  assert.equal(libc.calls, [
    ['open', PROCS[0], O_WRONLY | O_CLOEXEC],
    ['open', PROCS[1], O_WRONLY | O_CLOEXEC],
    ['open', PROCS[2], O_WRONLY | O_CLOEXEC],
    ['close', fd],
    ['close', fd + 1],
  ]);
});

test('the first open failing: nothing to close', () => {
  const { ctx, libc } = setup();
  libc.failOn('open', EACCES);
  assert.throws(() => cgroupArgs(ctx, PROCS), /EACCES/);
  assert.equal(libc.names(), ['open']);
});

test.run();
