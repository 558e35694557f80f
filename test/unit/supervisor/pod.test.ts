import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../../helpers/assert.ts';
import type { PodPlan, RestartPolicy } from '../../../lib/spec/plan-types.ts';
import { type CgroupFactory, type ImageLeases, PodSupervisor } from '../../../lib/supervisor/pod.ts';
import { MinipodError } from '../../../lib/errors.ts';
import { Backoff, shouldRestart } from '../../../lib/supervisor/restart.ts';
import { longTimeout, within } from '../../../lib/supervisor/timers.ts';
import { SIGKILL, SIGTERM } from '../../../lib/sys/constants.ts';
import { containerPlan, fakeContext, tempRootfs } from '../../helpers/fake-context.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

interface Setup {
  names?: string[];
  grace?: number;
  /** Init containers; a name ending in '+' is a sidecar (restartPolicy Always). */
  init?: string[];
  deadline?: number;
  cgroups?: CgroupFactory;
  leases?: ImageLeases;
  /** Every container's image is this one of the store. */
  imageID?: string;
}

function setup(policy: RestartPolicy, names = ['a', 'b'], grace = 0.05, more: Omit<Setup, 'names' | 'grace'> = {}) {
  const fake = fakeContext();
  const image = tempRootfs();
  const stateRoot = mkdtempSync(join(tmpdir(), 'minipod-state-'));
  const plan: PodPlan = {
    name: 'p', namespace: 'default', uid: '0123456789ab-cdef', node: { name: 'vm', ip: '192.0.2.2' }, podIP: '', hostname: 'p', sharePid: false,
    host: { network: false, ipc: false, pid: false }, restartPolicy: policy, terminationGracePeriodSeconds: grace,
    activeDeadlineSeconds: more.deadline ?? null, volumes: [],
    initContainers: (more.init ?? []).map((name) =>
      containerPlan({ name: name.replace('+', ''), image: 'x', layers: [image.rootfs], argv: [name.replace('+', '')], sidecar: name.endsWith('+') })),
    containers: names.map((name) => containerPlan({ name, image: 'x', layers: [image.rootfs], argv: [name], imageID: more.imageID ?? '' })),
  };
  const notices: string[] = [];
  const supervisor = new PodSupervisor(fake.ctx, plan, {
    stateRoot, detached: false, manifest: {}, cgroups: more.cgroups ?? null, stats: true, backoffSeconds: 0.01, leases: more.leases ?? null, events: { line: () => {}, notice: (m) => notices.push(m) },
  });
  const kills = () => fake.libc.calls.filter(([n]) => n === 'kill').map(([, pid, sig]) => [pid, sig]);
  /** What was started, in order, by container name (the pause is the helper's -a /pause). */
  const started = () => fake.spawner.requests.slice(1).map((r) => r.args.at(-1));
  const cleanup = () => {
    image.remove();
    rmSync(stateRoot, { recursive: true, force: true });
  };
  return { ...fake, supervisor, stateRoot, notices, kills, started, cleanup, pause: 1000, first: 1001, second: 1002 };
}

test('all containers exit 0: Succeeded, exit 0, the pause is stopped, the pod directory removed', async () => {
  const t = setup('Never');
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(readdirSync(t.stateRoot).sort(), ['0123456789ab', 'logs'], 'the pod directory and its logs exist while the pod runs');
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

const DIGEST = `sha256:${'d'.repeat(64)}`;

/** Leases as the image store takes them, recorded. */
function recordingLeases(refuse = false) {
  const calls: unknown[][] = [];
  const leases: ImageLeases = {
    addLease: async (...args) => {
      calls.push(['add', ...args]);
      if (refuse) throw new MinipodError(`lease "x": image ${DIGEST} is no longer in the store`);
    },
    removeLease: async (id) => void calls.push(['remove', id]),
  };
  return { leases, calls };
}

test("a pod on an image of the store leases it (once for all its containers) while it runs, and gives the lease back at the end", async () => {
  const { leases, calls } = recordingLeases();
  const t = setup('Never', ['a', 'b'], 0.05, { leases, imageID: `127.0.0.1:5000/app@${DIGEST}` });
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(calls, [['add', '0123456789ab', join(t.stateRoot, '0123456789ab'), [DIGEST]]]);
    t.spawner.exit(t.first, { code: 0, signal: null });
    t.spawner.exit(t.second, { code: 0, signal: null });
    await result;
    assert.equal(calls.at(-1), ['remove', '0123456789ab']);
  } finally {
    t.cleanup();
  }
});

test('a lease the store refuses (the image went meanwhile) fails the start, with its reason, and nothing runs', async () => {
  const { leases } = recordingLeases(true);
  const t = setup('Never', ['a'], 0.05, { leases, imageID: `127.0.0.1:5000/app@${DIGEST}` });
  try {
    await rejects(t.supervisor.run(), /^start pod "p": lease "x": image sha256:d+ is no longer in the store$/);
    assert.equal(t.started(), []);
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

const exit0 = { code: 0, signal: null };
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('init containers run one at a time, in order, each to success, before any app container', async () => {
  const t = setup('Never', ['a', 'b'], 0.05, { init: ['i1', 'i2'] });
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(t.started(), ['i1']);
    t.spawner.exit(1001, exit0);
    await tick();
    assert.equal(t.started(), ['i1', 'i2']);
    t.spawner.exit(1002, exit0);
    await tick();
    assert.equal(t.started(), ['i1', 'i2', 'a', 'b']);
    t.spawner.exit(1003, exit0);
    t.spawner.exit(1004, exit0);
    const r = await result;
    assert.is(r.phase, 'Succeeded');
    assert.equal(r.initContainers.map((c) => [c.name, c.kind, c.last?.reason]), [['i1', 'init', 'Completed'], ['i2', 'init', 'Completed']]);
  } finally {
    t.cleanup();
  }
});

test('a failed init container with restartPolicy Never fails the pod: no app container starts', async () => {
  const t = setup('Never', ['a'], 0.05, { init: ['i1', 'i2'] });
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(1001, { code: 3, signal: null });
    const r = await result;
    assert.equal([r.phase, r.exitCode], ['Failed', 3]);
    assert.equal(t.started(), ['i1']);
    assert.equal(r.containers.map((c) => [c.state, c.last]), [['waiting', null]]);
    assert.equal(r.initContainers.map((c) => c.state), ['terminated', 'waiting']);
    assert.equal(t.kills(), [[t.pause, SIGTERM]]);
  } finally {
    t.cleanup();
  }
});

for (const policy of ['OnFailure', 'Always'] as const) {
  test(`a failed init container is retried with backoff under ${policy}, counted, and the pod goes on once it succeeds`, async () => {
    const t = setup(policy, ['a'], 0.05, { init: ['i1'] });
    try {
      const result = t.supervisor.run();
      await tick();
      t.spawner.exit(1001, { code: 1, signal: null });
      await wait(40);
      assert.equal(t.started(), ['i1', 'i1']);
      t.spawner.exit(1002, exit0);
      await tick();
      assert.equal(t.started(), ['i1', 'i1', 'a'], 'a successful init container is not run again, even under Always');
      if (policy === 'Always') t.supervisor.stop('SIGTERM');
      else t.spawner.exit(1003, exit0);
      const r = await result;
      assert.is(r.initContainers[0]!.restarts, 1);
      assert.match(t.notices[0]!, `container "i1" exited with 1; restarting in 0.01s (restartPolicy ${policy})`);
    } finally {
      t.cleanup();
    }
  });
}

test('a sidecar starts in order, runs beside the app containers, is restarted whatever the policy, and stopped after them', async () => {
  const t = setup('Never', ['a'], 0.05, { init: ['proxy+', 'setup'] });
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(t.started(), ['proxy', 'setup'], 'the next init container starts once the sidecar has');
    t.spawner.exit(1002, exit0);
    await tick();
    assert.equal(t.started(), ['proxy', 'setup', 'a']);
    t.spawner.exit(1001, exit0); // the sidecar ends on its own: restarted even under Never
    await wait(40);
    assert.equal(t.started(), ['proxy', 'setup', 'a', 'proxy']);
    assert.match(t.notices[0]!, 'container "proxy" exited with 0; restarting in 0.01s (a sidecar (restartPolicy Always))');
    t.spawner.exit(1003, exit0);
    const r = await result;
    assert.equal(t.kills(), [[1004, SIGTERM], [t.pause, SIGTERM]], 'the app has ended: only the sidecar is stopped');
    assert.equal([r.phase, r.exitCode], ['Succeeded', 0], "a sidecar's 143 on the way out does not fail the pod");
    assert.equal(r.initContainers.map((c) => [c.name, c.kind, c.restarts, c.last?.exitCode]), [['proxy', 'sidecar', 1, 143], ['setup', 'init', 0, 0]]);
  } finally {
    t.cleanup();
  }
});

test('on stop, app containers go first, then the sidecars in reverse order, all within one grace period', async () => {
  const t = setup('Always', ['a'], 0.05, { init: ['s1+', 's2+'] });
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(t.started(), ['s1', 's2', 'a']);
    t.supervisor.stop('SIGTERM');
    await result;
    assert.equal(t.kills(), [[1003, SIGTERM], [1002, SIGTERM], [1001, SIGTERM], [t.pause, SIGTERM]]);
  } finally {
    t.cleanup();
  }
});

test('activeDeadlineSeconds: the pod is stopped when it expires, reason DeadlineExceeded, exit 124', async () => {
  const t = setup('Always', ['a'], 0.05, { deadline: 0.05 });
  try {
    const r = await t.supervisor.run();
    assert.equal([r.phase, r.reason, r.exitCode], ['Failed', 'DeadlineExceeded', 124]);
    assert.equal(r.containers.map((c) => [c.last?.exitCode, c.last?.reason]), [[143, 'DeadlineExceeded']]);
    assert.equal(t.notices, ['pod "p" was active longer than activeDeadlineSeconds (0.05s): stopping it']);
  } finally {
    t.cleanup();
  }
});

test('a pod that ends before its deadline is not marked, and the deadline timer does not keep it waiting', async () => {
  const t = setup('Never', ['a'], 0.05, { deadline: 3600 });
  try {
    const result = t.supervisor.run();
    await tick();
    t.spawner.exit(t.first, exit0);
    const r = await within(result, 1000, null);
    assert.equal([r?.phase, r?.reason], ['Succeeded', null]);
  } finally {
    t.cleanup();
  }
});

/** A pod's cgroups that only count: OOM kills the test sets, what was made and destroyed. */
function fakeCgroups() {
  const oom = new Map<string, number>();
  const log: string[] = [];
  const usage = { memoryBytes: 1, memoryPeakBytes: 2, cpuSeconds: 0.5, pids: 1 };
  const cgroup = (name: string) => ({ procs: [`/cg/${name}/cgroup.procs`], oomKills: () => oom.get(name) ?? 0, stats: () => usage });
  const factory: CgroupFactory = (podId, pod) => {
    log.push(`create ${podId} memory=${pod.memoryLimit}`);
    return {
      dirs: ['/cg/pod'],
      pause: cgroup('_pause'),
      container: (name, resources) => {
        log.push(`container ${name} memory=${resources.memoryLimit}`);
        return cgroup(name);
      },
      destroy: async () => void log.push('destroy'),
    };
  };
  return { factory, oom, log, usage };
}

test('cgroups: made before the pause, each process told its cgroup.procs, an OOM kill in a run is OOMKilled, destroyed last', async () => {
  const cg = fakeCgroups();
  const t = setup('Never', ['a', 'b'], 0.05, { cgroups: cg.factory });
  try {
    const result = t.supervisor.run();
    await tick();
    assert.equal(t.spawner.requests.map((r) => ['-c', '-s'].map((flag) => r.args.filter((a) => a === flag).length)), [[1, 1], [1, 1], [1, 1]], 'the pause and each container get their -c and -s');
    cg.oom.set('a', 1);
    t.spawner.exit(t.first, { code: null, signal: 9 });
    t.spawner.exit(t.second, exit0);
    const r = await result;
    assert.equal(r.containers.map((c) => [c.last?.exitCode, c.last?.reason]), [[137, 'OOMKilled'], [0, 'Completed']]);
    assert.equal(r.containers[0]!.usage, cg.usage, '--stats');
    assert.equal(cg.log, ['create 0123456789ab memory=null', 'container a memory=null', 'container b memory=null', 'destroy']);
  } finally {
    t.cleanup();
  }
});

test('cgroups: an OOM kill from an earlier run does not mark the next one', async () => {
  const cg = fakeCgroups();
  const t = setup('OnFailure', ['a'], 0.05, { cgroups: cg.factory });
  try {
    const result = t.supervisor.run();
    await tick();
    cg.oom.set('a', 1);
    t.spawner.exit(t.first, { code: null, signal: 9 });
    await wait(40);
    t.spawner.exit(1002, { code: 1, signal: null });
    await wait(40);
    t.spawner.exit(1003, exit0);
    const r = await result;
    assert.equal([r.containers[0]!.restarts, r.containers[0]!.previous?.reason, r.containers[0]!.last?.reason], [2, 'Error', 'Completed']);
  } finally {
    t.cleanup();
  }
});

test('longTimeout fires after its delay and can be cancelled', async () => {
  let fired = 0;
  longTimeout(() => fired++, 5);
  const cancel = longTimeout(() => fired++, 5);
  cancel();
  await wait(30);
  assert.is(fired, 1);
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
