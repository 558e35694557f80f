import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../../helpers/assert.ts';
import type { PodPlan, RestartPolicy } from '../../../lib/spec/plan-types.ts';
import { PodSupervisor } from '../../../lib/supervisor/pod.ts';
import { Backoff, shouldRestart } from '../../../lib/supervisor/restart.ts';
import { SIGKILL, SIGTERM } from '../../../lib/sys/constants.ts';
import { containerPlan, fakeContext, tempRootfs } from '../../helpers/fake-context.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function setup(policy: RestartPolicy, names = ['a', 'b'], grace = 0.05) {
  const fake = fakeContext();
  const image = tempRootfs();
  const stateRoot = mkdtempSync(join(tmpdir(), 'minipod-state-'));
  const plan: PodPlan = {
    name: 'p', namespace: 'default', uid: '0123456789ab-cdef', hostname: 'p', sharePid: false,
    host: { network: false, ipc: false, pid: false }, restartPolicy: policy, terminationGracePeriodSeconds: grace,
    activeDeadlineSeconds: null, volumes: [], initContainers: [],
    containers: names.map((name) => containerPlan({ name, image: 'x', rootfs: image.rootfs })),
  };
  const notices: string[] = [];
  const supervisor = new PodSupervisor(fake.ctx, plan, {
    stateRoot, backoffSeconds: 0.01, events: { line: () => {}, notice: (m) => notices.push(m) },
  });
  const kills = () => fake.libc.calls.filter(([n]) => n === 'kill').map(([, pid, sig]) => [pid, sig]);
  const cleanup = () => {
    image.remove();
    rmSync(stateRoot, { recursive: true, force: true });
  };
  return { ...fake, supervisor, stateRoot, notices, kills, cleanup, pause: 1000, first: 1001, second: 1002 };
}

test('all containers exit 0: Succeeded, exit 0, the pause is stopped, the pod directory removed', async () => {
  const t = setup('Never');
  try {
    const result = t.supervisor.run();
    await tick();
    assert.is(readdirSync(t.stateRoot).length, 1, 'a pod directory exists while the pod runs');
    t.spawner.exit(t.first, { code: 0, signal: null });
    t.spawner.exit(t.second, { code: 0, signal: null });
    const r = await result;
    assert.is(r.exitCode, 0);
    assert.is(r.phase, 'Succeeded');
    assert.equal(r.containers.map((c) => c.last?.reason), ['Completed', 'Completed']);
    assert.equal(t.kills(), [[t.pause, SIGTERM]]);
    assert.equal(readdirSync(t.stateRoot), []);
  } finally {
    t.cleanup();
  }
});

test('the pod exit code is that of the first container to fail, in time', async () => {
  const t = setup('Never');
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(t.second, { code: 3, signal: null });
    await tick();
    t.spawner.exit(t.first, { code: 5, signal: null });
    const r = await result;
    assert.is(r.exitCode, 3);
    assert.is(r.phase, 'Failed');
  } finally {
    t.cleanup();
  }
});

test('a container killed by a signal counts as 128+signal', async () => {
  const t = setup('Never', ['a']);
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(t.first, { code: null, signal: 9 });
    assert.is((await result).exitCode, 137);
  } finally {
    t.cleanup();
  }
});

test('OnFailure restarts a failed container after the backoff and counts it', async () => {
  const t = setup('OnFailure', ['a']);
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(t.first, { code: 1, signal: null });
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.is(t.spawner.requests.length, 3, 'pause, first run, restart');
    t.spawner.exit(1002, { code: 0, signal: null });
    const r = await result;
    assert.is(r.exitCode, 0);
    assert.is(r.containers[0]!.restarts, 1);
    const { state, image, last, previous } = r.containers[0]!;
    assert.equal([state, image, last?.exitCode, last?.reason, previous?.exitCode, previous?.reason], ['terminated', 'x', 0, 'Completed', 1, 'Error']);
    assert.ok(previous!.finishedAt <= last!.startedAt && last!.startedAt <= last!.finishedAt, 'each run has its own times');
    assert.ok(r.startedAt <= previous!.startedAt && last!.finishedAt <= r.finishedAt);
    assert.match(t.notices[0]!, 'container "a" exited with 1; restarting in 0.01s (restartPolicy OnFailure)');
  } finally {
    t.cleanup();
  }
});

test('stop: SIGTERM to each container, SIGKILL after the grace period to one that ignores it, exit 130', async () => {
  const t = setup('Always');
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.ignoreTerm.add(t.second);
    t.supervisor.stop('SIGINT');
    const r = await result;
    assert.is(r.exitCode, 130);
    assert.equal(t.kills(), [[t.first, SIGTERM], [t.second, SIGTERM], [t.second, SIGKILL], [t.pause, SIGTERM]]);
    assert.equal(r.containers.map((c) => [c.last?.exitCode, c.last?.reason]), [[143, 'Error'], [137, 'Error']], 'as kubelet reports containers stopped with their pod');
  } finally {
    t.cleanup();
  }
});

test('a second stop kills at once instead of waiting out the grace period', async () => {
  const t = setup('Always', ['a'], 3600);
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.ignoreTerm.add(t.first);
    t.supervisor.stop('SIGTERM');
    await tick();
    t.supervisor.stop('SIGTERM');
    assert.is((await result).exitCode, 143);
  } finally {
    t.cleanup();
  }
});

test('a failure halfway through start stops what started and leaves nothing', async () => {
  const t = setup('Never', ['a', 'b'], 3600);
  try {
    // The second container's pivot_root fails.
    let pivots = 0;
    t.libc.failOn('pivot_root', 1, () => ++pivots === 2);
    t.spawner.ignoreTerm.add(t.first);
    await rejects(t.supervisor.run(), /^start pod "p": pivot_root\(\., \.\): EPERM$/);
    // No grace period for a pod that never started: SIGKILL follows at once.
    assert.equal(t.kills(), [[t.first, SIGTERM], [t.first, SIGKILL], [t.pause, SIGTERM]]);
    assert.equal(readdirSync(t.stateRoot), []);
  } finally {
    t.cleanup();
  }
});

test('the pause dying ends the pod with an error', async () => {
  const t = setup('Always', ['a']);
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(t.pause, { code: null, signal: 9 });
    await rejects(result, /^the pod sandbox \(pause\) exited unexpectedly \(killed by signal 9\)$/);
    assert.not.ok(existsSync(join(t.stateRoot, t.supervisor.id)));
  } finally {
    t.cleanup();
  }
});

test('restart policy and kubelet backoff', () => {
  assert.ok(shouldRestart('Always', 0));
  assert.ok(shouldRestart('OnFailure', 2));
  assert.not.ok(shouldRestart('OnFailure', 0));
  assert.not.ok(shouldRestart('Never', 1));
  const backoff = new Backoff(10);
  assert.equal([1, 1, 1, 1, 1, 1, 1].map(() => backoff.next(1)), [10, 20, 40, 80, 160, 300, 300]);
  assert.is(backoff.next(600), 10, 'ten minutes of clean running resets it');
});

test.run();
