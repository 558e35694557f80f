// Faults at every step of a pod's start and stop (issue #7): kill -9 of the
// pause, of a container or of the supervisor (the foreground `minipod run`,
// or the shared one of `run -d`), at a step chosen by a seeded PRNG and
// watched for on the host (the pod directory made, its cgroups made, the
// pause spawned, running, the init container, the app containers, the stop
// asked for, the containers gone), a few milliseconds of jitter after it.
// The pod must end with a reason that names what happened, and once
// `minipod gc` (and rm of what finished) has run, nothing may be left: the
// kernel suite's baseline, and no process of the supervisor's session.
//
// The seed is printed; MINIPOD_FAULT_SEED=N replays a run's choices (the
// timing of the machine is not replayed, only what is killed when).
// MINIPOD_FAULT_ROUNDS=N runs N rounds of the twelve cases (default 1).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import type { PodRecord } from '../../lib/state/record.ts';
import { listPods } from '../../lib/state/store.ts';
import { minipodCgroupRoots } from '../helpers/baseline.ts';
import { pod, podIds, type Scratch, waitFor } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { childrenOf, cmdline, faultSeed, prng, running, Seen, stat, supervisorExits, supervisorPids } from '../helpers/reliability.ts';

const { test, run } = kernelSuite('faults: kill -9 of the pause, a container or the supervisor at every step of start and stop');

const seed = faultSeed();
const random = prng(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
console.log(`  fault seed ${seed} (MINIPOD_FAULT_SEED=${seed} replays it)`);
const ROUNDS = Number(process.env.MINIPOD_FAULT_ROUNDS || 1);

type Target = 'pause' | 'container' | 'supervisor';
type Mode = 'foreground' | 'detached';
type Phase = 'start' | 'stop';

const START_STEPS = ['the CLI started', 'the pod directory made', 'its cgroups made', 'the pause spawned', 'the pause running', 'the init container started', 'the app containers started'] as const;
const STOP_STEPS = ['the stop asked for', 'the app containers gone'] as const;
type Step = (typeof START_STEPS)[number] | (typeof STOP_STEPS)[number];

const MANIFEST = pod('f', { a: 'trap "exit 0" TERM; sleep 3 & wait', b: 'sleep 0.2' }, {
  terminationGracePeriodSeconds: 1,
  initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'sleep 0.05'] }],
});

/** The pause (before its exec: the helper started as `-a /pause`) among the supervisor's children. */
const isPause = (pid: number) => {
  const line = cmdline(pid);
  return stat(pid)?.comm === 'pause' || line === '/pause' || line.includes('-a /pause');
};

function podCgroups(): string[] {
  return minipodCgroupRoots().flatMap((root) => (existsSync(root) ? readdirSync(root).filter((n) => /^[0-9a-f]{12}$/.test(n)) : []));
}

interface Watch {
  scratch: Scratch;
  supervisor: () => number | null;
}

function reached(step: Step, { scratch, supervisor }: Watch): boolean {
  const sup = supervisor();
  const children = sup ? childrenOf(sup) : [];
  const record = (): PodRecord | undefined => listPods(scratch.root)[0];
  switch (step) {
    case 'the CLI started': return true;
    case 'the pod directory made': return podIds(scratch.root).length > 0;
    case 'its cgroups made': return podCgroups().length > 0;
    case 'the pause spawned': return children.some(isPause);
    case 'the pause running': return children.some((p) => stat(p)?.comm === 'pause');
    case 'the init container started': return children.some((p) => !isPause(p));
    case 'the app containers started': return record()?.phase === 'Running';
    case 'the stop asked for': return true;
    case 'the app containers gone': return sup !== null && !children.some((p) => !isPause(p));
  }
}

/** The pid to kill for `target` now, if there is one. */
function victim(target: Target, { supervisor }: Watch): number | null {
  const sup = supervisor();
  if (sup === null || target === 'supervisor') return sup;
  // A child not exec'd yet is a copy of the supervisor (same command line): neither is known yet.
  const children = childrenOf(sup).filter((p) => cmdline(p) !== cmdline(sup));
  const found = target === 'pause' ? children.filter(isPause) : children.filter((p) => !isPause(p));
  return found.length ? pick(found) : null;
}

interface Kill { step: Step; jitterMs: number; pid: number | null; what: string }

/** Waits for `step`, then `jitterMs`, then kills the target as soon as it exists (for up to `ms`). */
async function killAt(step: Step, jitterMs: number, target: Target, watch: Watch, ms = 3000): Promise<Kill> {
  const end = Date.now() + ms;
  while (!reached(step, watch) && Date.now() < end) await sleep(1);
  if (jitterMs) await sleep(jitterMs);
  while (Date.now() < end) {
    const pid = victim(target, watch);
    if (pid !== null && running(pid)) {
      const what = `${pid} ${cmdline(pid).slice(0, 60)}`;
      process.kill(pid, 'SIGKILL');
      return { step, jitterMs, pid, what };
    }
    await sleep(1);
  }
  return { step, jitterMs, pid: null, what: 'nothing: the target never appeared' };
}

interface Case { target: Target; mode: Mode; phase: Phase }

const CASES: Case[] = (['pause', 'container', 'supervisor'] as const).flatMap((target) =>
  (['foreground', 'detached'] as const).flatMap((mode) => (['start', 'stop'] as const).map((phase) => ({ target, mode, phase }))));

async function untilRunning(scratch: Scratch): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(5)) {
    if (listPods(scratch.root)[0]?.phase === 'Running') return;
  }
  throw new Error('the pod never ran');
}

async function faultCase({ target, mode, phase }: Case, scratch: Scratch, seen: Seen): Promise<string> {
  const step = phase === 'start' ? pick(START_STEPS) : pick(STOP_STEPS);
  const jitterMs = Math.floor(random() * (step === 'the CLI started' ? 300 : step === 'the stop asked for' ? 40 : 6));
  const file = scratch.manifest('f.json', MANIFEST);
  const args = mode === 'detached' ? ['run', '-d', file] : ['run', file];
  const cli = scratch.minipod(args, { timeout: 20_000 });
  const watch: Watch = {
    scratch,
    supervisor: () => (mode === 'foreground' ? (cli.pid && running(cli.pid) ? cli.pid : null) : (supervisorPids(scratch.root)[0] ?? null)),
  };
  let stopper: ReturnType<Scratch['minipod']> | null = null;
  let kill: Kill;
  if (phase === 'start') {
    kill = await killAt(step, jitterMs, target, watch);
  } else {
    if (mode === 'detached') {
      const r = await cli;
      assert.is(r.exitCode, 0, r.all);
    }
    await untilRunning(scratch);
    if (mode === 'foreground') process.kill(cli.pid!, 'SIGTERM');
    else stopper = scratch.minipod(['stop', 'f']);
    kill = await killAt(step, jitterMs, target, watch, 1500);
  }
  const sup = watch.supervisor();
  // The shared supervisor has a session of its own, whose processes must all end; a foreground run shares ours.
  if (sup) mode === 'detached' ? seen.supervisor(sup) : seen.process(sup);
  for (const p of listPods(scratch.root)) seen.pod(p);
  const r = await cli;
  const stopped = stopper ? await stopper : null;
  const what = `${target} killed (${mode}, ${phase}) at "${kill.step}" + ${kill.jitterMs} ms: ${kill.what}`;
  const out = `${what}\n  run: exit ${r.exitCode ?? r.signal}: ${r.all}\n  stop: ${stopped ? `exit ${stopped.exitCode}: ${stopped.all}` : '-'}`;

  if (kill.pid === null) {
    // Nothing to kill at that step (a container after the containers are gone): the pod ends as it would have.
    if (mode === 'foreground') assert.ok([0, 143].includes(r.exitCode!), out);
  } else if (target === 'supervisor') {
    if (mode === 'foreground') assert.is(r.signal, 'SIGKILL', out);
    // Whatever state it left names the pod Unknown: no one supervises it.
    const ps = await scratch.minipod(['ps', '-a', '-o', 'json']);
    const pods = JSON.parse(ps.stdout) as PodRecord[];
    for (const p of pods) {
      seen.pod(p);
      const phase = p.phase as string; // ps shows Unknown for a lost pod
      assert.ok(['Unknown', 'Succeeded', 'Failed'].includes(phase), `${out}\n  ps shows ${phase}`);
      if (phase === 'Unknown') {
        const st = await scratch.minipod(['stop', 'f']);
        assert.match(st.stderr, /lost its supervisor.*minipod gc/, `${out}\n  stop: ${st.all}`);
      }
    }
  } else if (phase === 'stop') {
    // Killed while it was being stopped anyway: the stop completes.
    if (mode === 'foreground') assert.is(r.exitCode, 143, out);
    else assert.is(stopped!.exitCode, 0, out);
  } else if (mode === 'foreground') {
    if (target === 'pause') {
      assert.is(r.exitCode, 125, out);
      assert.match(r.stderr, /^minipod: .*(pause|sandbox)/m, `the pause's death is named: ${out}`);
    } else {
      assert.is(r.exitCode, 137, out);
      assert.match(r.stderr, /^\S+( \((init)\))?\s+terminated\s+137\s+Error/m, `the killed container's row: ${out}`);
    }
  } else if (r.exitCode !== 0) {
    // run -d was still waiting: it says why the pod did not start.
    assert.is(r.exitCode, 125, out);
    assert.match(r.stderr, target === 'pause' ? /^minipod: pod "f" did not start: .*(pause|sandbox)/ : /^minipod: pod "f" did not start: .*137/, out);
  } else {
    const record = await waitFor(() => listPods(scratch.root).find((p) => p.phase === 'Failed'), `${out}\n  the pod to fail`);
    if (target === 'pause') {
      const inspect = await scratch.minipod(['inspect', 'f']);
      assert.match(JSON.parse(inspect.stdout).message ?? '', /pause|sandbox/, `inspect names the pause's death: ${out}\n  ${inspect.stdout.slice(0, 400)}`);
    } else {
      assert.is(record.exitCode, 137, out);
      assert.ok([...record.initContainers, ...record.containers].some((c) => c.last?.exitCode === 137 && c.last.reason === 'Error'), out);
    }
  }

  // Then: gc for a lost pod, rm for a finished one, and nothing may be left.
  const gc = await scratch.minipod(['gc', '--logs']);
  assert.is(gc.exitCode, 0, `${out}\n  gc: ${gc.all}`);
  for (const p of listPods(scratch.root)) {
    const rm = await scratch.minipod(['rm', '-f', p.id]);
    assert.is(rm.exitCode, 0, `${out}\n  rm: ${rm.all}`);
  }
  if (mode === 'detached') await supervisorExits(scratch.root, 12_000);
  await seen.assertNoneLeft().catch((err: Error) => assert.unreachable(`${out}\n  ${err.message}`));
  // The shared supervisor logs the failure of a pod it could not tell run -d about (the pause killed
  // after run -d returned): that line, naming the pause's death, is the only thing it may leave.
  const log = join(scratch.root, 'supervisor.log');
  if (existsSync(log)) {
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(target === 'pause' && mode === 'detached' && lines.every((l) => / f: the pod sandbox \(pause\) exited unexpectedly \(killed by signal 9\)$/.test(l)), `${out}\n  supervisor.log: ${lines.join('; ')}`);
    rmSync(log);
  }
  const left = existsSync(scratch.root) ? readdirSync(scratch.root) : [];
  assert.equal(left, [], `${out}\n  the state root after gc`);
  return `${what} -> ${r.exitCode ?? r.signal}`;
}

for (let round = 0; round < ROUNDS; round++) {
  for (const c of CASES) {
    test(`${c.mode}: kill -9 of the ${c.target} during ${c.phase}${ROUNDS > 1 ? ` (round ${round + 1})` : ''}`, async ({ scratch }) => {
      const seen = new Seen();
      try {
        console.log(`  ${await faultCase(c, scratch, seen)}`);
      } catch (err) {
        await seen.removeAll(scratch);
        (err as Error).message = `[fault seed ${seed}: MINIPOD_FAULT_SEED=${seed} replays it] ${(err as Error).message}`;
        throw err;
      }
    });
  }
}

run();
