import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { linesOf } from '../helpers/cli.ts';

// The README sends new users to these files: they must run as it says.
const { test, run } = kernelSuite('examples/ run as the README says');

test('hello-pod: HTTP over the pod loopback and a note in the pod /dev/shm', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/hello-pod.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'client').slice(0, 2), ['hello from hello', 'shm says: web was here']);
});

test('shared-pid: same net/ipc/uts/pid, different mnt, /pause is PID 1', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/shared-pid.yaml']);
  assert.is(r.exitCode, 0, r.all);
  const ns = (c: string) => Object.fromEntries(linesOf(r.stdout, c).filter((l) => /^\w+ \w+:\[/.test(l)).map((l) => l.split(' ')));
  const [a, b] = [ns('a'), ns('b')];
  for (const n of ['net', 'ipc', 'uts', 'pid']) assert.is(a[n], b[n], n);
  assert.is.not(a.mnt, b.mnt);
  assert.ok(linesOf(r.stdout, 'b').some((l) => /^\s*1 root\s+\/pause$/.test(l)), r.stdout);
});

test('env-and-args: $(VAR) expansion, $$ escape, workingDir, HOSTNAME', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/env-and-args.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app').slice(0, 2), ['hello from the pod in /tmp as web-0', 'escaped: $(MESSAGE)']);
});

test('restart-on-failure: fails twice, restarted, then succeeds', async ({ scratch }) => {
  const r = await scratch.minipod(['run', '--backoff', '0.05', 'examples/restart-on-failure.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'flaky'), ['try 1', 'try 2', 'try 3']);
});

run();
