// Detached pods (minipod run -d) and the verbs around them: ps, logs,
// inspect, stop, rm, gc, and the one shared supervisor per state root.
//
// The shared supervisor runs in a session of its own, and so do the pauses
// and containers it starts: the baseline's process check (our session only)
// does not see them. So every test here checks itself, at its end, that the
// supervisor has exited and that no process of its session (pause,
// container) still runs.
import { Buffer } from 'node:buffer';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import type { PodRecord } from '../../lib/state/record.ts';
import { listPods } from '../../lib/state/store.ts';
import { minipodCgroups } from '../helpers/baseline.ts';
import { commandPod, hostDir, pod, type Scratch, waitFor } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { cmdline, running, type Seen, stat, stateRootEntries, supervisorExits, supervisorPids, withSeen } from '../helpers/reliability.ts';

const { test, run } = kernelSuite('detached pods and the shared supervisor');


/** A container that runs until stopped, and ends at once on SIGTERM. */
const SERVE = 'trap "exit 0" TERM; echo ready; sleep 1000 & wait';
/** Never the default 30 s if something does not stop. */
const GRACE = { terminationGracePeriodSeconds: 2 };
const ID = /^[0-9a-f]{12}$/;

// --- processes ---------------------------------------------------------------

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]);
}

// --- the CLI ----------------------------------------------------------------

interface Ctx {
  scratch: Scratch;
  seen: Seen;
}

/** `ps -o json` (-a with `all`): the records, with the phase as shown. Notes their processes. */
async function psJson({ scratch, seen }: Ctx, all = false): Promise<PodRecord[]> {
  const r = await scratch.minipod(['ps', ...(all ? ['-a'] : []), '-o', 'json']);
  assert.is(r.exitCode, 0, r.all);
  const pods = JSON.parse(r.stdout) as PodRecord[];
  for (const p of pods) seen.pod(p);
  return pods;
}

/** `ps` (or with its options) split into rows of cells; the header first. */
async function psTable({ scratch }: Ctx, ...args: string[]): Promise<string[][]> {
  const r = await scratch.minipod(['ps', ...args]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stderr, '');
  return r.stdout.split('\n').map((l) => l.split(/\s+/));
}

/** The one supervisor of the scratch root, once it runs; noted for the end-of-test check. */
function theSupervisor({ scratch, seen }: Ctx): number {
  const pids = supervisorPids(scratch.root);
  assert.is(pids.length, 1, `one shared supervisor for ${scratch.root}, found: ${pids.join(', ') || 'none'}`);
  seen.supervisor(pids[0]!);
  return pids[0]!;
}

async function runDetached(ctx: Ctx, file: string, ...args: string[]): Promise<string> {
  const r = await ctx.scratch.minipod(['run', '-d', ...args, file]);
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.stdout, ID, `run -d prints the pod id: ${r.all}`);
  assert.is(r.stderr, '');
  theSupervisor(ctx);
  return r.stdout;
}


/**
 * A test of detached pods: at its end (if it passed so far) the shared
 * supervisor must have exited by itself within 3 s and no pause or
 * container process may run. Whatever happened, what is left is then
 * removed as well as can be (rm -f, a supervisor that stays is killed, gc),
 * so one failure does not spill into the next test.
 */
function detached(title: string, fn: (ctx: Ctx) => Promise<void>): void {
  test(title, ({ scratch }) => withSeen(scratch, (seen) => fn({ scratch, seen }), 2000));
}


// --- CRI log files --------------------------------------------------------------

/** Go's time.RFC3339Nano in UTC: the fraction without trailing zeros, no dot when it is all zeros. */
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

/** An RFC3339 time as ns since the epoch. */
function epochNs(time: string): bigint {
  const [, seconds, fraction = ''] = /^(.{19})(?:\.(\d+))?Z$/.exec(time)!;
  return BigInt(Date.parse(`${seconds}Z`)) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
}

interface CriRecord {
  time: string;
  stream: string;
  tag: string;
  message: string;
}

function readRecords(path: string): CriRecord[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), `${path} ends with a complete record`);
  return text.slice(0, -1).split('\n').map((line) => {
    assert.match(line, /^\S+ (stdout|stderr) (P|F) /, `a CRI record: ${JSON.stringify(line.slice(0, 80))}`);
    const [time, stream, tag] = line.split(' ', 3) as [string, string, string];
    return { time, stream, tag, message: line.slice(time.length + stream.length + tag.length + 3) };
  });
}

/** Records joined into lines as the kubelet does: P parts held per stream until their F. */
function joinRecords(records: CriRecord[]): { time: string; stream: string; text: string }[] {
  const held = new Map<string, { time: string; stream: string; text: string }>();
  const lines: { time: string; stream: string; text: string }[] = [];
  for (const r of records) {
    const line = held.get(r.stream) ?? { time: r.time, stream: r.stream, text: '' };
    line.text += r.message;
    if (r.tag === 'P') held.set(r.stream, line);
    else {
      held.delete(r.stream);
      lines.push(line);
    }
  }
  assert.equal([...held.keys()], [], 'no line left unfinished');
  return lines;
}

async function podRecord(root: string, name: string, until: (p: PodRecord) => boolean, what: string, ms = 10_000): Promise<PodRecord> {
  return waitFor(() => listPods(root).find((p) => p.name === name && until(p)), what, ms);
}

// --- the tests --------------------------------------------------------------

detached('run -d prints the id and returns while the pod runs; ps, ps --containers, -o json; stop; ps -a; rm; the supervisor exits', async (ctx) => {
  const { scratch } = ctx;
  const file = scratch.manifest('web.json', pod('web', { c: SERVE }, GRACE));
  const id = await runDetached(ctx, file);
  const supervisor = theSupervisor(ctx);

  const [record] = await psJson(ctx);
  assert.ok(record, 'ps -o json lists the pod');
  assert.is(record.id, id);
  assert.is(record.name, 'web');
  assert.is(record.phase, 'Running');
  assert.is(record.detached, true);
  assert.is(record.supervisor.pid, supervisor, 'the pod is run by the shared supervisor');
  const pausePid = record.pause!.pid;
  const appPid = record.containers[0]!.process!.pid;
  assert.ok(running(pausePid) && running(appPid), 'the pause and the container run once run -d has returned');

  const table = await psTable(ctx);
  assert.is(table.length, 2, JSON.stringify(table));
  assert.equal(table[0], ['NAME', 'ID', 'STATUS', 'READY', 'RESTARTS', 'AGE']);
  assert.equal(table[1]!.slice(0, 5), ['web', id, 'Running', '1/1', '0']);
  assert.match(table[1]![5]!, /^\d+ms$|^\d\.\ds$/);

  const containers = await psTable(ctx, '--containers');
  assert.equal(containers[0], ['POD', 'CONTAINER', 'STATE', 'PID', 'RESTARTS', 'AGE']);
  assert.equal(containers.slice(1).map((r) => r.slice(0, 5)), [
    ['web', 'POD', 'running', String(pausePid), '0'],
    ['web', 'c', 'running', String(appPid), '0'],
  ]);

  const rss = rssKiB(supervisor);
  console.log(`  supervisor RSS with 1 pod: ${rss} KiB (${(rss / 1024).toFixed(1)} MiB)`);

  const t0 = Date.now();
  const stop = await scratch.minipod(['stop', 'web']);
  assert.is(stop.exitCode, 0, stop.all);
  assert.is(stop.all, '');
  assert.ok(Date.now() - t0 < 2500, `stop of a container that ends on SIGTERM is quick (${Date.now() - t0} ms)`);
  assert.not.ok(running(pausePid) || running(appPid), 'stop returns once the pod has stopped');

  assert.equal(await psTable(ctx), [['NAME', 'ID', 'STATUS', 'READY', 'RESTARTS', 'AGE']], 'ps: no running pod');
  const all = await psTable(ctx, '-a');
  assert.is(all.length, 2);
  assert.equal(all[1]!.slice(0, 2), ['web', id]);
  assert.ok(['Failed', 'Succeeded'].includes(all[1]![2]!), `ps -a shows it stopped: ${all[1]![2]}`);
  assert.equal(all[1]!.slice(3, 5), ['0/1', '0']);
  assert.ok(['Failed', 'Succeeded'].includes((await psJson(ctx, true))[0]!.phase));

  const rm = await scratch.minipod(['rm', 'web']);
  assert.is(rm.exitCode, 0, rm.all);
  assert.is(rm.stdout, id);
  assert.equal(await psJson(ctx, true), []);
  await supervisorExits(scratch.root);
  assert.equal(stateRootEntries(scratch.root), [], 'rm leaves nothing in the state root');
});

detached('run -d returns only once every app container has started (after a 0.5 s init container)', async (ctx) => {
  const { scratch } = ctx;
  const manifest = pod('slow', { c: SERVE }, {
    ...GRACE,
    initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'sleep 0.5'] }],
  });
  const t0 = Date.now();
  const id = await runDetached(ctx, scratch.manifest('slow.json', manifest));
  const returned = Date.now();
  assert.ok(returned - t0 >= 500, `run -d waited for the init container (${returned - t0} ms)`);
  const table = await psTable(ctx);
  assert.equal(table[1]!.slice(0, 4), ['slow', id, 'Running', '1/1']);
  const [record] = await psJson(ctx);
  const init = record!.initContainers[0]!;
  const app = record!.containers[0]!;
  assert.equal([init.state, init.last?.exitCode, init.last?.reason], ['terminated', 0, 'Completed']);
  assert.ok(init.last!.finishedAt - init.last!.startedAt >= 500, 'the init container ran its 0.5 s');
  assert.is(app.state, 'running');
  assert.ok(app.startedAt! >= init.last!.finishedAt && app.startedAt! <= returned, 'the app container started before run -d returned');
  const rm = await scratch.minipod(['rm', '-f', id]);
  assert.is(rm.exitCode, 0, rm.all);
});

detached('run -d of a hostPID pod returns once the app runs, though the exec helper stays as its parent', async (ctx) => {
  const { scratch } = ctx;
  const r = await scratch.minipod(['run', '-d', scratch.manifest('hostpid.json', pod('hostpid', { c: SERVE }, { ...GRACE, hostPID: true }))], { timeout: 10_000 });
  assert.is(r.exitCode, 0, `run -d returned (${r.timedOut ? 'timed out' : r.all})`);
  assert.match(r.stdout, ID);
  theSupervisor(ctx);
  const [record] = await psJson(ctx);
  const helper = record!.containers[0]!.process!.pid;
  const [app] = readFileSync(`/proc/${helper}/task/${helper}/children`, 'utf8').trim().split(' ').map(Number);
  ctx.seen.pids.add(app!);
  assert.match(cmdline(app!), /^sh -c /, 'the app runs, a child of the helper');
  assert.ok(readlinkSync(`/proc/${app}/exe`).endsWith('/busybox'), 'the app has been exec\'d');
  const rm = await scratch.minipod(['rm', '-f', 'hostpid']);
  assert.is(rm.exitCode, 0, rm.all);
});

for (const [what, build, reason] of [
  ['a missing command (exec fails)', (_: Scratch): object => commandPod('nocmd', ['nope']), /"nope"/],
  ['a hostPath Directory that does not exist', (scratch: Scratch): object => {
    const manifest = pod('novol', { c: SERVE }, { ...GRACE, volumes: [{ name: 'v', hostPath: { path: join(scratch.dir, 'not-there'), type: 'Directory' } }] });
    (manifest.spec.containers[0] as Record<string, unknown>).volumeMounts = [{ name: 'v', mountPath: '/v' }];
    return manifest;
  }, /not-there/],
  ['an init container that fails (restartPolicy Never)', (_: Scratch): object => pod('initfail', { c: SERVE }, {
    ...GRACE,
    initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'echo doomed; exit 1'] }],
  }), /initfail/],
] as const) {
  detached(`run -d of a pod that cannot start, ${what}: exit 125, one line, nothing left`, async (ctx) => {
    const { scratch } = ctx;
    const cgroupsBefore = minipodCgroups();
    const r = await scratch.minipod(['run', '-d', scratch.manifest('bad.json', build(scratch))]);
    assert.is(r.exitCode, 125, `exit 125, not ${r.exitCode}: ${r.all}`);
    assert.is(r.stdout, '', 'no pod id');
    assert.match(r.stderr, /^minipod: [^\n]+$/, 'one line');
    assert.match(r.stderr, reason);
    assert.equal(listPods(scratch.root), [], 'no pod left');
    await supervisorExits(scratch.root);
    assert.equal(stateRootEntries(scratch.root), [], 'nothing in the state root (the error was reported to the CLI, not kept)');
    assert.equal(minipodCgroups(), cgroupsBefore, 'no cgroup left');
  });
}

detached('--name: the same manifest twice is refused (exit 125, the name in use); with --name other it runs; both listed', async (ctx) => {
  const { scratch } = ctx;
  const file = scratch.manifest('same.json', pod('same', { c: SERVE }, GRACE));
  const first = await runDetached(ctx, file);
  const again = await scratch.minipod(['run', '-d', file]);
  assert.is(again.exitCode, 125, again.all);
  assert.is(again.stdout, '');
  assert.is(again.stderr, `minipod: pod name "same" is already in use by pod ${first} (Running): remove it with minipod rm same, or choose another with --name`);
  const other = await runDetached(ctx, file, '--name', 'other');
  assert.is.not(other, first);
  const table = await psTable(ctx);
  assert.equal(table.slice(1).map((r) => r.slice(0, 4)), [['same', first, 'Running', '1/1'], ['other', other, 'Running', '1/1']]);
  const records = await psJson(ctx);
  assert.equal(records.map((p) => [p.name, p.supervisor.pid]), [['same', theSupervisor(ctx)], ['other', theSupervisor(ctx)]]);
  assert.equal(readdirSync(scratch.root).filter((n) => ID.test(n)).sort(), [first, other].sort(), 'the refused run left no pod directory');
  for (const id of [first, other]) {
    const rm = await scratch.minipod(['rm', '-f', id]);
    assert.is(rm.exitCode, 0, rm.all);
  }
});

/** What the logs test's container writes: stdout lines, stderr lines, a 40000-character line, an empty one, UTF-8. */
const LONG = Array.from({ length: 11000 }, (_, i) => i + 1).join('').slice(0, 40000);
const WRITTEN = [
  ['stdout', 'out1'],
  ['stdout', 'out 2  with  spaces '],
  ['stderr', 'err1'],
  ['stdout', LONG],
  ['stderr', 'err2'],
  ['stdout', ''],
  ['stdout', 'héllo ✓'],
  ['stdout', 'out3'],
] as const;
const WRITER = [
  'echo out1', "echo 'out 2  with  spaces '", 'sleep 0.1', 'echo err1 >&2', 'sleep 0.1',
  "seq -s '' 1 11000 | head -c 40000", 'echo', 'sleep 0.1', 'echo err2 >&2', 'sleep 0.1', 'echo', "echo 'héllo ✓'", 'echo out3',
].join('; ');

detached('logs: a valid CRI log file (records, RFC3339Nano, 16 KiB P,P,F parts); logs prints exactly the lines; --tail; --timestamps', async (ctx) => {
  const { scratch } = ctx;
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const id = await runDetached(ctx, scratch.manifest('log.json', pod('log', { c: WRITER }, GRACE)));
  const record = await podRecord(scratch.root, 'log', (p) => p.phase === 'Succeeded', 'the pod to succeed');
  const t1 = BigInt(Date.now()) * 1_000_000n;
  assert.is(record.id, id);
  assert.is(record.logDir, join(scratch.root, 'logs', `default_log_${record.uid}`));
  assert.equal(readdirSync(record.logDir), ['c']);
  assert.equal(readdirSync(join(record.logDir, 'c')), ['0.log']);

  const records = readRecords(join(record.logDir, 'c', '0.log'));
  for (const r of records) assert.match(r.time, RFC3339_NANO, `RFC3339Nano: ${r.time}`);
  const times = records.map((r) => epochNs(r.time));
  assert.ok(times.every((t, i) => t >= t0 && t <= t1 && (i === 0 || t > times[i - 1]!)), 'times within the run, strictly increasing');
  assert.equal(records.map((r) => `${r.stream} ${r.tag}`), [
    'stdout F', 'stdout F', 'stderr F', 'stdout P', 'stdout P', 'stdout F', 'stderr F', 'stdout F', 'stdout F', 'stdout F',
  ]);
  assert.equal(records.slice(3, 6).map((r) => Buffer.byteLength(r.message)), [16384, 16384, 7232], 'the long line in 16 KiB parts');
  const lines = joinRecords(records);
  assert.equal(lines.map((l) => [l.stream, l.text]), WRITTEN.map(([s, t]) => [s, t]), 'the lines joined back are what the container wrote');

  const logs = await scratch.minipod(['logs', 'log']);
  assert.is(logs.exitCode, 0, logs.stderr);
  assert.is(logs.stderr, '');
  assert.is(logs.stdout, WRITTEN.map(([, t]) => t).join('\n'), 'logs prints exactly the lines');
  const byId = await scratch.minipod(['logs', id.slice(0, 6), 'c']);
  assert.is(byId.stdout, logs.stdout, 'by id prefix and container name too');

  const tail = await scratch.minipod(['logs', '--tail', '2', 'log']);
  assert.is(tail.exitCode, 0, tail.all);
  assert.is(tail.stdout, 'héllo ✓\nout3');

  const stamped = await scratch.minipod(['logs', '--timestamps', 'log']);
  assert.is(stamped.exitCode, 0, stamped.all);
  const fixed = (time: string) => {
    const [, seconds, fraction = ''] = /^(.{19})(?:\.(\d+))?Z$/.exec(time)!;
    return `${seconds}.${fraction.padEnd(9, '0')}Z`;
  };
  assert.is(stamped.stdout, lines.map((l) => `${fixed(l.time)} ${l.text}`).join('\n'), 'each line after the time of its first record, RFC3339NanoFixed');
  for (const l of stamped.stdout.split('\n')) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);

  const previous = await scratch.minipod(['logs', '--previous', 'log']);
  assert.is(previous.exitCode, 125, previous.all);
  assert.is(previous.stderr, 'minipod: previous terminated container "c" in pod "log" not found');

  const rm = await scratch.minipod(['rm', 'log']);
  assert.is(rm.exitCode, 0, rm.all);
});

/** A container that fails its first run (a marker in a hostPath volume tells) and does `then` on the next. */
function failsOnce(scratch: Scratch, name: string, first: string, then: string) {
  const marker = hostDir(scratch, `m-${name}`);
  const manifest = pod(name, { c: `if [ -e /${marker.mount.name}/ran ]; then ${then}; else touch /${marker.mount.name}/ran; ${first}; exit 1; fi` }, {
    ...GRACE,
    restartPolicy: 'OnFailure',
    volumes: [marker.volume],
  });
  (manifest.spec.containers[0] as Record<string, unknown>).volumeMounts = [marker.mount];
  return scratch.manifest(`${name}.json`, manifest);
}

detached('logs --previous after a restart (OnFailure, --backoff 0.1)', async (ctx) => {
  const { scratch } = ctx;
  const file = failsOnce(scratch, 'prev', 'echo first; echo first-err >&2', `echo second; ${SERVE}`);
  await runDetached(ctx, file, '--backoff', '0.1');
  const record = await podRecord(scratch.root, 'prev', (p) => p.containers[0]!.restarts === 1 && p.containers[0]!.state === 'running', 'the restart');
  ctx.seen.pod(record);
  await waitFor(() => (readFileSync(join(record.logDir, 'c', '1.log'), 'utf8').includes('ready') ? true : undefined), 'the second run to write');
  assert.equal(readdirSync(join(record.logDir, 'c')).sort(), ['0.log', '1.log']);
  const previous = await scratch.minipod(['logs', '--previous', 'prev']);
  assert.is(previous.exitCode, 0, previous.all);
  const firstRun = joinRecords(readRecords(join(record.logDir, 'c', '0.log'))).map((l) => l.text);
  assert.equal(firstRun.sort(), ['first', 'first-err']);
  assert.equal(previous.stdout.split('\n').sort(), ['first', 'first-err']);
  const current = await scratch.minipod(['logs', 'prev']);
  assert.is(current.stdout, 'second\nready');
  const table = await psTable(ctx);
  assert.equal(table[1]!.slice(2, 5), ['Running', '1/1', '1'], 'ps counts the restart');
  const rm = await scratch.minipod(['rm', '-f', 'prev']);
  assert.is(rm.exitCode, 0, rm.all);
});

detached('logs -f prints lines as they come, follows across a restart, ends when the container ends for good', async (ctx) => {
  const { scratch } = ctx;
  const file = failsOnce(scratch, 'follow', 'echo a1; sleep 1; echo a2', 'echo b1; sleep 0.6; echo b2; exit 0');
  await runDetached(ctx, file, '--backoff', '0.1');
  const t0 = Date.now();
  const follower = scratch.minipod(['logs', '-f', 'follow']);
  const arrived: [string, number][] = [];
  let partial = '';
  follower.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) arrived.push([line, Date.now() - t0]);
  });
  const r = await follower;
  const ended = Date.now() - t0;
  assert.is(r.exitCode, 0, r.all);
  assert.equal(arrived.map(([l]) => l), ['a1', 'a2', 'b1', 'b2'], `lines of both runs, in order: ${JSON.stringify(arrived)}`);
  const at = Object.fromEntries(arrived);
  assert.ok(at.a2! - at.a1! >= 700, `a1 printed as it came, not at the end (${JSON.stringify(arrived)})`);
  // b1 opens the second run's log file, which the follower finds on a later poll: up to ~200 ms late.
  assert.ok(at.b2! - at.b1! >= 300, `b1 printed as it came (${JSON.stringify(arrived)})`);
  assert.ok(ended - at.b2! < 1500, `logs -f ends soon after the container ended for good (${ended - at.b2!} ms after b2)`);
  const record = (await psJson(ctx, true))[0]!;
  assert.equal([record.phase, record.containers[0]!.restarts], ['Succeeded', 1]);
  const rm = await scratch.minipod(['rm', 'follow']);
  assert.is(rm.exitCode, 0, rm.all);
});

detached('logs of a pod with two containers and no container name: exit 125, kubectl\'s message', async (ctx) => {
  const { scratch } = ctx;
  await runDetached(ctx, scratch.manifest('two.json', pod('two', { a: SERVE, b: SERVE }, GRACE)));
  const r = await scratch.minipod(['logs', 'two']);
  assert.is(r.exitCode, 125, r.all);
  assert.is(r.stdout, '');
  assert.is(r.stderr, 'minipod: a container name must be specified for pod two, choose one of: [a b]');
  const rm = await scratch.minipod(['rm', '-f', 'two']);
  assert.is(rm.exitCode, 0, rm.all);
});

const nsInode = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`).replace(/^\w+:\[(\d+)\]$/, '$1');

detached('inspect: manifest, phase, pids, cgroups, logDir, each container\'s logDir and logPath, namespaces (pid shared only with shareProcessNamespace); --format table', async (ctx) => {
  const { scratch } = ctx;
  const manifests = {
    own: pod('own', { c: SERVE }, GRACE),
    shared: pod('shared', { c: SERVE }, { ...GRACE, shareProcessNamespace: true }),
  };
  for (const [name, manifest] of Object.entries(manifests)) {
    const id = await runDetached(ctx, scratch.manifest(`${name}.json`, manifest));
    const r = await scratch.minipod(['inspect', name]);
    assert.is(r.exitCode, 0, r.all);
    const info = JSON.parse(r.stdout);
    ctx.seen.pod(info);
    assert.is(info.id, id);
    assert.equal(info.manifest, manifest);
    assert.is(info.phase, 'Running');
    const pause = info.pause.pid as number;
    const app = info.containers[0].process.pid as number;
    assert.ok(running(pause) && running(app));
    assert.ok(info.cgroups.length > 0, 'the pod has cgroups');
    for (const dir of info.cgroups) {
      assert.ok(dir.endsWith(`/${id}`) && existsSync(dir), `cgroup ${dir}`);
      assert.ok(readFileSync(join(dir, '_pause', 'cgroup.procs'), 'utf8').split('\n').includes(String(pause)), `the pause is in ${dir}/_pause`);
    }
    assert.is(info.logDir, join(scratch.root, 'logs', `default_${name}_${info.uid}`));
    assert.ok(existsSync(info.logDir));
    assert.is(info.containers[0].logDir, join(info.logDir, 'c'), 'each container\'s log directory');
    assert.is(info.containers[0].logPath, join(info.logDir, 'c', '0.log'), 'and its current log file');
    await waitFor(() => (readFileSync(info.containers[0].logPath, 'utf8').includes(' stdout F ready\n') ? true : undefined), `"ready" in ${info.containers[0].logPath}`);

    assert.equal(info.namespaces.map((n: { name: string; pid: number }) => [n.name, n.pid]), [['POD (pause)', pause], ['c', app]]);
    const kinds = ['net', 'ipc', 'uts', 'pid', 'mnt', 'cgroup', 'user'];
    const [podNs, appNs] = info.namespaces as { namespaces: Record<string, { inode: string; shared: boolean }> }[];
    for (const kind of kinds) {
      assert.is(podNs!.namespaces[kind]!.inode, nsInode(pause, kind), `pause ${kind}`);
      assert.is(appNs!.namespaces[kind]!.inode, nsInode(app, kind), `c ${kind}`);
      assert.is(appNs!.namespaces[kind]!.shared, nsInode(app, kind) === nsInode(pause, kind), `c ${kind}: shared means the pause's`);
    }
    const shared = (kind: string) => appNs!.namespaces[kind]!.shared;
    assert.equal(['net', 'ipc', 'uts'].map(shared), [true, true, true], 'net, ipc, uts are the pod\'s');
    assert.is(shared('mnt'), false, 'mnt is the container\'s own');
    assert.is(shared('pid'), name === 'shared', `pid shared only with shareProcessNamespace (${name})`);

    const t = await scratch.minipod(['inspect', '--format', 'table', name]);
    assert.is(t.exitCode, 0, t.all);
    const lines = t.stdout.split('\n');
    assert.is(lines.length, 3);
    assert.equal(lines[0]!.split(/\s+/), ['CONTAINER', 'PID', 'NET', 'IPC', 'UTS', 'PID', 'MNT', 'CGROUP', 'USER']);
    const cells = (n: { namespaces: Record<string, { inode: string; shared: boolean }> }) =>
      kinds.map((k) => `${n.namespaces[k]!.inode}${n.namespaces[k]!.shared ? ' shared' : ''}`);
    assert.equal(lines[1]!.split(/ {3,}/), ['POD (pause)', String(pause), ...cells(podNs!)]);
    assert.equal(lines[2]!.split(/ {3,}/), ['c', String(app), ...cells(appNs!)]);
  }
  // A finished pod has no process, so no namespaces: said, not an empty table.
  const stop = await scratch.minipod(['stop', 'own']);
  assert.is(stop.exitCode, 0, stop.all);
  const done = await scratch.minipod(['inspect', '--format', 'table', 'own']);
  assert.equal([done.exitCode, done.stdout], [0, ''], done.all);
  assert.match(done.stderr, /^minipod: pod "own" is (Succeeded|Failed): no process of it runs, so it has no namespaces to show$/);
  for (const name of Object.keys(manifests)) {
    const rm = await scratch.minipod(['rm', '-f', name]);
    assert.is(rm.exitCode, 0, rm.all);
  }
});

for (const logs of [false, true]) {
  detached(`kill -9 of the shared supervisor: its pods die with it, ps shows Unknown, gc${logs ? ' --logs' : ''} cleans up`, async (ctx) => {
    const { scratch } = ctx;
    const id = await runDetached(ctx, scratch.manifest('lost.json', pod('lost', { c: SERVE }, GRACE)));
    const supervisor = theSupervisor(ctx);
    const [record] = await psJson(ctx);
    const pids = [record!.pause!.pid, record!.containers[0]!.process!.pid];
    assert.ok(pids.every(running));

    process.kill(supervisor, 'SIGKILL');
    const t0 = Date.now();
    await waitFor(() => (pids.some(running) ? undefined : true), `the pause and container to die with the supervisor (PR_SET_PDEATHSIG); still: ${pids.filter(running)}`, 2000);
    const died = Date.now() - t0;
    assert.ok(died < 2000);

    // The supervisor is dead now, possibly not reaped yet by the machine's init
    // (its parent, the run -d, is long gone): a zombie does not supervise.
    const soft: string[] = [];
    const early = await psTable(ctx);
    if (early[1]?.[2] !== 'Unknown') {
      soft.push(`right after the supervisor died (state ${stat(supervisor)?.state ?? 'gone'}), ps shows the pod as ${early[1]?.[2]}, not Unknown`);
    }
    await waitFor(() => (stat(supervisor) === null ? true : undefined), 'the killed supervisor to be reaped by init', 5000);
    const table = await psTable(ctx);
    assert.equal(table[1]!.slice(0, 3), ['lost', id, 'Unknown']);
    assert.is((await psJson(ctx))[0]!.phase, 'Unknown');

    const stop = await scratch.minipod(['stop', 'lost']);
    assert.is(stop.exitCode, 125, stop.all);
    assert.match(stop.stderr, /lost its supervisor.*minipod gc/);

    assert.ok(existsSync(join(scratch.root, 'supervisor.sock')), 'the killed supervisor left its socket');
    const gc = await scratch.minipod(['gc', ...(logs ? ['--logs'] : [])]);
    assert.is(gc.exitCode, 0, gc.all);
    assert.is(gc.stdout, id);
    assert.is(gc.stderr, '');
    for (const dir of record!.cgroups) assert.not.ok(existsSync(dir), `gc removed ${dir}`);
    assert.not.ok(existsSync(join(scratch.root, 'supervisor.sock')), 'gc removed the stale socket');
    assert.equal(stateRootEntries(scratch.root), logs ? [] : ['logs'], 'what gc leaves in the state root');
    if (!logs) {
      assert.equal(readdirSync(join(scratch.root, 'logs')), [`default_lost_${record!.uid}`]);
      rmSync(join(scratch.root, 'logs'), { recursive: true });
    }
    const again = await scratch.minipod(['gc']);
    assert.equal([again.exitCode, again.all], [0, ''], 'a second gc finds nothing');
    console.log(`  the pod's processes were gone ${died} ms after kill -9 of the supervisor`);
    if (soft.length) assert.unreachable(soft.join('; '));
  });
}

test('a helper whose runtime died before its PR_SET_PDEATHSIG runs nothing, also as PID 1 of its own PID namespace (no parent to check)', async () => {
  const init = new URL('../../build/minipod-init', import.meta.url).pathname;
  // fd 3 is the write end of a status pipe whose reader plays the runtime: one that stays, one that has exited.
  const helper = (reader: string) => execa('bash', ['-c', `exec 3> >(${reader}); ${reader === 'true' ? 'wait $!; ' : ''}exec unshare -pf "$0" -d -s 3 -- sh -c 'echo ran as $$'`, init], { reject: false });
  const alive = await helper('cat >/dev/null');
  assert.equal([alive.exitCode, alive.stdout], [0, 'ran as 1'], alive.all ?? alive.stderr);
  const gone = await helper('true');
  assert.equal([gone.exitCode, gone.stdout, gone.stderr], [125, '', 'runtime exited before the container started']);
});

detached('20 detached pods at once: all Running under ONE supervisor (RSS printed), all stopped, all removed', async (ctx) => {
  const { scratch } = ctx;
  const file = scratch.manifest('many.json', pod('many', { c: SERVE }, GRACE));
  const names = Array.from({ length: 20 }, (_, i) => `p${i + 1}`);
  const t0 = Date.now();
  const started = await Promise.all(names.map((n) => scratch.minipod(['run', '-d', '--name', n, file], { timeout: 60_000 })));
  const took = Date.now() - t0;
  for (const r of started) {
    assert.is(r.exitCode, 0, r.all);
    assert.match(r.stdout, ID);
  }
  const ids = started.map((r) => r.stdout);
  assert.is(new Set(ids).size, 20);
  await waitFor(() => (supervisorPids(scratch.root).length === 1 ? true : undefined), 'the supervisors started by the other CLIs to leave', 5000)
    .catch(() => assert.unreachable(`more than one supervisor: ${supervisorPids(scratch.root).join(', ')}`));
  const supervisor = theSupervisor(ctx);

  const records = await psJson(ctx);
  assert.equal(records.map((p) => p.name).sort(), [...names].sort());
  assert.equal(records.map((p) => p.id).sort(), [...ids].sort());
  assert.ok(records.every((p) => p.phase === 'Running' && p.supervisor.pid === supervisor), 'all Running, all under the one supervisor');
  const table = await psTable(ctx);
  assert.is(table.length, 21);
  assert.ok(table.slice(1).every((r) => r[2] === 'Running' && r[3] === '1/1'), table.map((r) => r.join(' ')).join('\n'));
  const rss = rssKiB(supervisor);
  console.log(`  supervisor RSS with 20 pods: ${rss} KiB (${(rss / 1024).toFixed(1)} MiB); 20 concurrent run -d took ${took} ms`);

  const stops = await Promise.all(names.map((n) => scratch.minipod(['stop', n])));
  for (const r of stops) assert.is(r.exitCode, 0, r.all);
  assert.equal(await psJson(ctx), []);
  const stopped = await psJson(ctx, true);
  assert.is(stopped.length, 20);
  assert.ok(stopped.every((p) => p.phase === 'Failed' || p.phase === 'Succeeded'));
  const rms = await Promise.all(names.map((n) => scratch.minipod(['rm', n])));
  for (const r of rms) assert.is(r.exitCode, 0, r.all);
  assert.equal(rms.map((r) => r.stdout).sort(), [...ids].sort());
  assert.equal(await psJson(ctx, true), []);
  await supervisorExits(scratch.root);
  assert.equal(stateRootEntries(scratch.root), []);
});

detached('rm of a running pod without -f is refused (exit 125); rm -f stops and removes it', async (ctx) => {
  const { scratch } = ctx;
  const id = await runDetached(ctx, scratch.manifest('busy.json', pod('busy', { c: SERVE }, GRACE)));
  const [record] = await psJson(ctx);
  const r = await scratch.minipod(['rm', 'busy']);
  assert.is(r.exitCode, 125, r.all);
  assert.is(r.stdout, '');
  assert.is(r.stderr, 'minipod: pod "busy" is Running: stop it first, or use rm -f');
  assert.ok(running(record!.containers[0]!.process!.pid), 'still running');
  assert.is((await psJson(ctx))[0]!.phase, 'Running');
  const f = await scratch.minipod(['rm', '-f', 'busy']);
  assert.is(f.exitCode, 0, f.all);
  assert.is(f.stdout, id);
  assert.is(f.stderr, '');
  assert.not.ok(running(record!.pause!.pid) || running(record!.containers[0]!.process!.pid));
  assert.equal(await psJson(ctx, true), []);
  await supervisorExits(scratch.root);
  assert.equal(stateRootEntries(scratch.root), []);
});

detached('rm -f (and stop) of a pod that ends at that moment succeeds: the stop of a pod that has just finished is no error', async (ctx) => {
  // A pod whose container ends about when rm -f comes: rm -f reads it
  // Running, and by the time its stop reaches the supervisor the pod may be
  // over. An idle pod keeps the supervisor up, as on a node.
  const { scratch } = ctx;
  await runDetached(ctx, scratch.manifest('idle.json', pod('idle', { c: SERVE }, GRACE)));
  for (let i = 0; i < 30; i++) {
    // Ends from at once to 0.29 s after run -d returns: some rm -f land in the window.
    const quick = scratch.manifest(`quick${i}.json`, pod('quick', { c: `sleep ${(i % 30) / 100}` }));
    const id = await runDetached(ctx, quick, '--name', `quick${i}`);
    const rm = await scratch.minipod(['rm', '-f', id]);
    assert.equal([rm.exitCode, rm.stderr], [0, ''], `round ${i}: ${rm.all}`);
  }
  const rm = await scratch.minipod(['rm', '-f', 'idle']);
  assert.is(rm.exitCode, 0, rm.all);
});

detached('stop --grace of a detached pod: its grace period instead of the pod\'s (60 s), then SIGKILL', async (ctx) => {
  const { scratch } = ctx;
  await runDetached(ctx, scratch.manifest('stubborn.json', pod('stubborn', { c: 'trap "" TERM; echo ready; sleep 1000' }, { terminationGracePeriodSeconds: 60 })));
  const [record] = await psJson(ctx);
  const t0 = Date.now();
  const stop = await scratch.minipod(['stop', '--grace', '1', 'stubborn']);
  const took = Date.now() - t0;
  assert.is(stop.exitCode, 0, stop.all);
  assert.ok(took >= 900 && took < 5000, `stopped after the 1 s of --grace, not 60 s nor at once (${took} ms)`);
  assert.not.ok(running(record!.containers[0]!.process!.pid));
  const [stopped] = await psJson(ctx, true);
  assert.equal([stopped!.containers[0]!.last?.exitCode, stopped!.phase], [137, 'Failed'], 'killed by SIGKILL once the grace was over');
  const rm = await scratch.minipod(['rm', 'stubborn']);
  assert.is(rm.exitCode, 0, rm.all);
});

detached('stop of a foreground minipod run: --grace refused; returns once it has stopped; the run exits 143', async (ctx) => {
  const { scratch } = ctx;
  const child = scratch.minipod(['run', scratch.manifest('fg.json', pod('fg', { c: SERVE }, GRACE))]);
  let out = '';
  await new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('c | ready')) resolve();
  }));
  const [record] = await psJson(ctx);
  assert.equal([record!.name, record!.detached, record!.phase, record!.supervisor.pid], ['fg', false, 'Running', child.pid]);
  const grace = await scratch.minipod(['stop', '--grace', '1', 'fg']);
  assert.is(grace.exitCode, 125, grace.all);
  assert.is(grace.stderr, `minipod: --grace: pod "fg" runs in the foreground (minipod run, pid ${child.pid}), which stops it with its own grace period: stop it without --grace, or start it with run --grace`);
  assert.is((await psJson(ctx))[0]!.phase, 'Running', 'a refused stop leaves the pod running');
  const t0 = Date.now();
  const stop = await scratch.minipod(['stop', 'fg']);
  assert.is(stop.exitCode, 0, stop.all);
  assert.is(stop.all, '');
  assert.ok(Date.now() - t0 < 2500, 'the container ends on SIGTERM');
  assert.not.ok(running(record!.pause!.pid) || running(record!.containers[0]!.process!.pid), 'stopped when stop returns');
  assert.equal(await psJson(ctx, true), [], 'a foreground pod is removed by its run');
  const r = await child;
  assert.is(r.exitCode, 143, r.all);
  assert.equal(supervisorPids(scratch.root), [], 'no shared supervisor for a foreground pod');
});

run();
