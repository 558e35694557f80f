// The soak (issue #7): pods of mixed kinds — plain, several containers, an
// init container, a failure, a restart (--backoff 0.1), an OOM kill under a
// 16Mi limit, activeDeadlineSeconds — one after another and many at once,
// in the foreground and through the shared supervisor, each checked for the
// status it must end with; then nothing may be left: the kernel suite's
// baseline (mount table, processes, cgroups, state root) after each test,
// and, for the detached pods, the supervisor's own descriptors and the
// processes of its session, counted while an idle pod keeps it alive.
//
// Deadline and OOM pods (the slow ones, a second each at least) are a small
// fraction, so that the suite stays within its time budget.
import * as assert from 'uvu/assert';
import type { PodRecord } from '../../lib/state/record.ts';
import { listPods } from '../../lib/state/store.ts';
import { snapshot } from '../helpers/baseline.ts';
import { pod, type Scratch, waitFor } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { descriptorDiff, descriptors, type Seen, stateRootEntries, supervisorExits, theSupervisor, withSeen } from '../helpers/reliability.ts';

const { test, run } = kernelSuite('soak: pods of every kind, in sequence and at once, foreground and detached');

const SEQUENCE = 300;
const AT_ONCE = 30;
const DETACHED_SEQUENCE = 60;

type Kind = 'plain' | 'multi' | 'init' | 'fail' | 'restart' | 'oom' | 'deadline';

/** Pod i's kind: 3 in 300 hit their deadline, 6 in 300 are OOM-killed, a tenth each of the others. */
function kindOf(i: number): Kind {
  if (i % 100 === 50) return 'deadline';
  if (i % 50 === 25) return 'oom';
  return (['plain', 'plain', 'plain', 'restart', 'plain', 'plain', 'fail', 'plain', 'init', 'multi'] as const)[i % 10]!;
}

/** The at-once batch: one of each slow kind, the rest as in the sequence. */
const batchKinds = (n: number): Kind[] => ['deadline', 'oom', ...Array.from({ length: n - 2 }, (_, i) => kindOf(i))];

const HOG = 'exec dd if=/dev/zero of=/dev/null bs=100M count=1';
const work = { name: 'w', emptyDir: {} };
const mountWork = (manifest: ReturnType<typeof pod>) => {
  for (const c of manifest.spec.containers as Record<string, unknown>[]) c.volumeMounts = [{ name: 'w', mountPath: '/w' }];
  return manifest;
};

function manifestOf(kind: Kind, name: string): object {
  switch (kind) {
    case 'plain':
      return pod(name, { c: 'true' });
    case 'multi':
      return pod(name, { a: 'true', b: 'echo hi', c: 'sleep 0.05' });
    case 'init': {
      const m = mountWork(pod(name, { app: 'test -e /w/done' }, { volumes: [work] }));
      return { ...m, spec: { ...m.spec, initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'touch /w/done'], volumeMounts: [{ name: 'w', mountPath: '/w' }] }] } };
    }
    case 'fail':
      return pod(name, { c: 'exit 3' });
    case 'restart':
      // Fails its first run only: the emptyDir outlives the container.
      return mountWork(pod(name, { c: 'if [ -e /w/ran ]; then exit 0; fi; touch /w/ran; exit 1' }, { restartPolicy: 'OnFailure', volumes: [work] }));
    case 'oom': {
      const m = pod(name, { c: HOG });
      (m.spec.containers[0] as Record<string, unknown>).resources = { limits: { memory: '16Mi' } };
      return m;
    }
    case 'deadline':
      return pod(name, { c: 'trap "exit 0" TERM; sleep 5 & wait' }, { activeDeadlineSeconds: 1, terminationGracePeriodSeconds: 1 });
  }
}

/** What a pod of each kind ends with: exit code, phase, the pod's reason, then `name reason exitCode restarts` per container. */
const EXPECTED: Record<Kind, string> = {
  plain: '0 Succeeded - | c Completed 0 0',
  multi: '0 Succeeded - | a Completed 0 0, b Completed 0 0, c Completed 0 0',
  init: '0 Succeeded - | init Completed 0 0, app Completed 0 0',
  fail: '3 Failed - | c Error 3 0',
  restart: '0 Succeeded - | c Completed 0 1',
  oom: '137 Failed - | c OOMKilled 137 0',
  deadline: '124 Failed DeadlineExceeded | c DeadlineExceeded 0 0',
};

interface KubeContainer { name: string; restartCount: number; state: { terminated?: { exitCode: number; reason: string } } }

/** The end of a foreground pod, from its exit code and `-o json`'s PodStatus. */
function fromPodStatus(exitCode: number | undefined, json: string): string {
  const status = JSON.parse(json) as { phase: string; reason?: string; initContainerStatuses?: KubeContainer[]; containerStatuses: KubeContainer[] };
  const containers = [...(status.initContainerStatuses ?? []), ...status.containerStatuses]
    .map((c) => `${c.name} ${c.state.terminated?.reason} ${c.state.terminated?.exitCode} ${c.restartCount}`);
  return `${exitCode} ${status.phase} ${status.reason ?? '-'} | ${containers.join(', ')}`;
}

/** The end of a detached pod, from its state record. */
function fromRecord(record: PodRecord): string {
  const containers = [...record.initContainers, ...record.containers].map((c) => `${c.name} ${c.last?.reason} ${c.last?.exitCode} ${c.restarts}`);
  return `${record.exitCode} ${record.phase} ${record.reason ?? '-'} | ${containers.join(', ')}`;
}

async function foreground(scratch: Scratch, kind: Kind, name: string): Promise<void> {
  const r = await scratch.minipod(['run', '--backoff', '0.1', '-o', 'json', scratch.manifest(`${name}.json`, manifestOf(kind, name))], { timeout: 60_000 });
  let got: string;
  try {
    got = fromPodStatus(r.exitCode, r.stdout);
  } catch {
    throw new assert.Assertion({ message: `pod ${name} (${kind}): exit ${r.exitCode}, no PodStatus: ${r.all}`, generated: false, operator: 'equal', expects: EXPECTED[kind], actual: r.all });
  }
  assert.is(got, EXPECTED[kind], `pod ${name} (${kind}): ${r.stderr}`);
}

const finished = (p: PodRecord) => p.phase === 'Succeeded' || p.phase === 'Failed';

/** run -d, wait for the pod to finish (its state record), check how it ended, rm. */
async function detached(scratch: Scratch, seen: Seen, kind: Kind, name: string): Promise<void> {
  const r = await scratch.minipod(['run', '-d', '--backoff', '0.1', '--name', name, scratch.manifest(`${name}.json`, manifestOf(kind, name))], { timeout: 60_000 });
  assert.is(r.exitCode, 0, `run -d of ${name} (${kind}): ${r.all}`);
  const id = r.stdout;
  const record = await waitFor(() => listPods(scratch.root).find((p) => p.id === id && finished(p)), `pod ${name} (${kind}) to finish`, 20_000);
  seen.pod(record);
  assert.is(fromRecord(record), EXPECTED[kind], `pod ${name} (${kind})`);
  const rm = await scratch.minipod(['rm', id]);
  assert.is(rm.exitCode, 0, rm.all);
  assert.is(rm.stdout, id);
}

/** n at a time out of `jobs`, in order. */
async function inBatches(jobs: (() => Promise<void>)[], n: number): Promise<void> {
  for (let i = 0; i < jobs.length; i += n) await Promise.all(jobs.slice(i, i + n).map((job) => job()));
}

test('run -d of pods whose containers run and end at once (true, exit 3): the id, then Succeeded or Failed as they ended, not "did not start"', async ({ scratch }) => {
  // Found by this soak: the started check lost the race against containers quicker than its poll, and run -d failed with 125.
  await withSeen(scratch, async (seen) => {
    for (const [name, script, phase, exitCode] of [['quick', 'true', 'Succeeded', 0], ['quickfail', 'exit 3', 'Failed', 3]] as const) {
      const r = await scratch.minipod(['run', '-d', scratch.manifest(`${name}.json`, pod(name, { a: script, b: script }))]);
      assert.is(r.exitCode, 0, r.all);
      assert.match(r.stdout, /^[0-9a-f]{12}$/);
      seen.supervisor(await theSupervisor(scratch.root).catch(() => 0));
      const record = await waitFor(() => listPods(scratch.root).find((p) => p.id === r.stdout && finished(p)), `${name} to finish`);
      assert.equal([record.phase, record.exitCode, record.containers.map((c) => c.last?.exitCode)], [phase, exitCode, [exitCode, exitCode]]);
      const rm = await scratch.minipod(['rm', name]);
      assert.is(rm.exitCode, 0, rm.all);
    }
    await supervisorExits(scratch.root);
    assert.equal(stateRootEntries(scratch.root), []);
  });
});

test(`${SEQUENCE} foreground pods in sequence, then ${AT_ONCE} at once, each ending as its kind must; nothing left`, async ({ scratch }) => {
  let t0 = Date.now();
  for (let i = 0; i < SEQUENCE; i++) await foreground(scratch, kindOf(i), `s${i}`);
  const sequence = Date.now() - t0;
  t0 = Date.now();
  await Promise.all(batchKinds(AT_ONCE).map((kind, i) => foreground(scratch, kind, `b${i}`)));
  console.log(`  ${SEQUENCE} pods in sequence: ${(sequence / 1000).toFixed(1)} s; ${AT_ONCE} at once: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(stateRootEntries(scratch.root), [], 'every foreground run removed its state');
});

test(`detached: ${DETACHED_SEQUENCE} pods in sequence and ${AT_ONCE} at once under one supervisor (run -d, wait, rm); its descriptors, its session's processes, mounts, cgroups and the state root as before`, async ({ scratch }) => {
  await withSeen(scratch, async (seen) => {
    // An idle pod keeps the shared supervisor alive through the soak.
    const idle = await scratch.minipod(['run', '-d', scratch.manifest('idle.json', pod('idle', { c: 'trap "exit 0" TERM; sleep 1000 & wait' }, { terminationGracePeriodSeconds: 2 }))]);
    assert.is(idle.exitCode, 0, idle.all);
    const supervisor = await theSupervisor(scratch.root);
    seen.supervisor(supervisor);
    for (const p of listPods(scratch.root)) seen.pod(p);
    // One pod of each kind first: what the supervisor opens once, on first use, is not a leak.
    for (const [i, kind] of (['plain', 'multi', 'init', 'fail', 'restart', 'oom', 'deadline'] as const).entries()) await detached(scratch, seen, kind, `w${i}`);

    const before = { fds: descriptors(supervisor), kernel: snapshot(), state: stateRootEntries(scratch.root), session: seen.leftovers().sort() };
    let t0 = Date.now();
    for (let i = 0; i < DETACHED_SEQUENCE; i++) await detached(scratch, seen, kindOf(i), `s${i}`);
    const sequence = Date.now() - t0;
    t0 = Date.now();
    await inBatches(batchKinds(AT_ONCE).map((kind, i) => () => detached(scratch, seen, kind, `b${i}`)), AT_ONCE);
    console.log(`  detached: ${DETACHED_SEQUENCE} in sequence: ${(sequence / 1000).toFixed(1)} s; ${AT_ONCE} at once: ${((Date.now() - t0) / 1000).toFixed(1)} s; supervisor descriptors: ${before.fds.size}`);

    // Descriptors of requests just answered close a moment after the reply.
    const fds = await waitFor(() => {
      const now = descriptors(supervisor);
      return now.size === before.fds.size ? now : undefined;
    }, 'the supervisor\'s descriptors to be back to their count', 2000).catch(() => descriptors(supervisor));
    assert.is(fds.size, before.fds.size, `the supervisor's open descriptors (/proc/${supervisor}/fd): ${descriptorDiff(before.fds, fds)}`);
    const after = snapshot();
    assert.equal(after.mountinfo, before.kernel.mountinfo, 'the mount table changed');
    assert.equal(after.cgroups, before.kernel.cgroups, 'cgroups left behind');
    assert.equal(stateRootEntries(scratch.root), before.state, 'the state root holds what it held before');
    const session = await waitFor(() => {
      const now = seen.leftovers().sort();
      return now.length === before.session.length ? now : undefined;
    }, 'the soak\'s processes to end', 3000).catch(() => seen.leftovers().sort());
    assert.equal(session, before.session, 'processes of the supervisor\'s session: the supervisor and the idle pod only');

    const rm = await scratch.minipod(['rm', '-f', 'idle']);
    assert.is(rm.exitCode, 0, rm.all);
  });
});

run();
