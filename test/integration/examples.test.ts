import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
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

test('init-and-sidecar: init containers in order, their work handed over in an emptyDir, the sidecar stopped last', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/init-and-sidecar.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'logger'), [
    'fetch: writing data', 'render: 42 apples -> page', 'app: serving <p>42 apples</p>', 'logger: stopping',
  ]);
  assert.match(r.stderr, /logger \(sidecar\)\s+terminated\s+0\s+Completed/);
});

test('volumes: emptyDir shared (and by subPath), a 1Mi memory emptyDir, a read-only hostPath file', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/volumes.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'writer'), [
    'scratch: 1024 KiB tmpfs', 'scratch: 2 MiB do not fit in 1Mi', 'host os-release is readable', 'host os-release is read-only',
  ]);
  assert.equal(linesOf(r.stdout, 'reader'), ['reader sees: written by writer']);
});

test('security-context: users and groups, runAsNonRoot, a read-only root with a writable emptyDir', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/security-context.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app'), [
    'uid=1000 gid=3000 groups=3000,4000', 'working in /home/app', 'the root filesystem is read-only',
    'the emptyDir on /tmp is writable', 'CapEff:\t0000000000000000',
  ]);
  assert.equal(linesOf(r.stdout, 'other'), ['uid=2000 gid=3000 groups=3000,4000']);
});

test('deadline: stopped after activeDeadlineSeconds, DeadlineExceeded, exit 124', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/deadline.yaml']);
  assert.is(r.exitCode, 124, r.all);
  assert.is(linesOf(r.stdout, 'forever').at(-1), 'stopping');
  assert.match(r.stderr, /^deadline\s+0\/1\s+DeadlineExceeded\s/m);
});

test('downward-api: the pod fields in env', async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/downward-api.yaml']);
  assert.is(r.exitCode, 0, r.all);
  const [where, app] = linesOf(r.stdout, 'app');
  assert.is(where, `downward.lab on ${hostname()}`);
  assert.match(app!, /^app=demo owner=ada uid=[0-9a-f-]{36}$/);
});

test("host-namespaces: the host's own namespaces and hostname", async ({ scratch }) => {
  const r = await scratch.minipod(['run', 'examples/host-namespaces.yaml']);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app'), [
    `hostname: ${hostname()}`, ...['net', 'ipc', 'pid', 'uts'].map((n) => `${n} ${readlinkSync(`/proc/self/ns/${n}`)}`),
  ]);
});

test('resources: the 32Mi container is OOMKilled with 137, the other keeps running', async ({ scratch }) => {
  const r = await scratch.minipod(['run', '--stats', 'examples/resources.yaml']);
  assert.is(r.exitCode, 137, r.all);
  assert.equal(linesOf(r.stdout, 'steady'), ['steady: still here after the hog was killed']);
  assert.match(r.stderr, /^hog\s+terminated\s+137\s+OOMKilled\s/m);
  assert.match(r.stderr, /^CONTAINER\s+MEMORY\s+PEAK\s+CPU\s+PIDS$/m);
});

run();
