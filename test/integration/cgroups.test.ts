// Cgroups, end to end: each pod in `<own cgroup>/minipod/<podId>/<container>`
// on every hierarchy (or under --cgroup-parent), the manifest's limits in the
// kernel's files, the pod's pids limit against a fork bomb, OOMKilled, --stats,
// --cgroup-manager disabled, and nothing left behind. The limits are read
// from the host while the pod runs (containers have no cgroupfs), with a
// handshake through a hostPath directory. The file names are cgroup v1's, as
// on the machines this runs on (memory, cpu, cpuacct and pids on v1).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { detectCgroups, type Controller } from '../../lib/cgroup/detect.ts';
import { minipodCgroupRoots } from '../helpers/baseline.ts';
import { hostDir, linesOf, podIds, type Scratch, waitFor } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';

const { test, run } = kernelSuite('cgroups: limits, pids limit, OOMKilled, --stats, --cgroup-manager, --cgroup-parent');

const CONTROLLERS: readonly Controller[] = ['memory', 'cpu', 'cpuacct', 'pids'];

/** Per controller, where its hierarchy is mounted and this process's cgroup in it ('/'-rooted). */
function hierarchies(): Record<Controller, { mount: string; path: string }> {
  const layout = detectCgroups(
    readFileSync('/proc/self/mountinfo', 'utf8'),
    readFileSync('/proc/self/cgroup', 'utf8'),
    (dir) => (existsSync(`${dir}/cgroup.controllers`) ? readFileSync(`${dir}/cgroup.controllers`, 'utf8') : null),
  );
  return Object.fromEntries(CONTROLLERS.map((c) => {
    const h = layout.controllers[c];
    if (!h || h.version !== 1) throw new Error(`this test reads cgroup v1 files: ${c} is ${h ? 'on v2' : 'not mounted'}`);
    return [c, { mount: h.mount, path: h.path }];
  })) as Record<Controller, { mount: string; path: string }>;
}

const slash = (...parts: string[]) => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/** A pod's cgroup (or one of its children: `sub`) as /proc/PID/cgroup names it, per controller. */
function cgroupPath(controller: Controller, podId: string, sub = '', parent?: string): string {
  const h = hierarchies()[controller];
  return slash(parent ?? slash(h.path, 'minipod'), podId, sub);
}

/** The same as a directory of the host. */
function cgroupDir(controller: Controller, podId: string, sub = '', parent?: string): string {
  return join(hierarchies()[controller].mount, cgroupPath(controller, podId, sub, parent));
}

const read = (path: string) => readFileSync(path, 'utf8').trim();

/** `/proc/PID/cgroup`, for the controllers minipod uses: controller -> path. */
function cgroupsOf(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read(`/proc/${pid}/cgroup`).split('\n')) {
    const [, names = '', path = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    for (const name of names.split(',')) if ((CONTROLLERS as readonly string[]).includes(name)) out[name] = path;
  }
  return out;
}

interface C {
  name: string;
  command: string[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  mounts?: boolean;
}

/** A pod of busybox containers, each with the hostPath `signals` on /signals when `mounts`; spec.volumes as given. */
function cgPod(name: string, containers: C[], spec: Record<string, unknown> = {}, volumes: object[] = []) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      ...spec,
      volumes,
      containers: containers.map((c) => ({
        name: c.name,
        image: 'busybox',
        command: c.command,
        ...(c.resources ? { resources: c.resources } : {}),
        ...(c.mounts ? { volumeMounts: [{ name: 'signals', mountPath: '/signals' }] } : {}),
      })),
    },
  };
}

const sh = (script: string) => ['sh', '-c', script];

/**
 * A hostPath directory for handshakes with a running pod: a container
 * touches /signals/ready-NAME and waits (at most 10 s) for /signals/done,
 * which the test writes once it has looked at the host.
 */
function signals(scratch: Scratch) {
  const { dir, volume } = hostDir(scratch, 'signals');
  return {
    dir,
    volume,
    /** Shell: say NAME is ready, then wait for the test. */
    handshake: (name: string) =>
      `touch /signals/ready-${name}; i=0; while [ ! -e /signals/done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
    ready: (...names: string[]) =>
      waitFor(() => (names.every((n) => existsSync(join(dir, `ready-${n}`))) ? true : undefined), `${names.join(', ')} to be ready`),
    done: () => writeFileSync(join(dir, 'done'), ''),
  };
}

/** The one pod of the state root: its id and its state.json. */
function podState(scratch: Scratch): { id: string; pause: { pid: number }; containers: { name: string; process: { pid: number } | null }[] } {
  const ids = podIds(scratch.root);
  assert.is(ids.length, 1, `one pod in the state root: ${ids}`);
  const state = JSON.parse(readFileSync(join(scratch.root, ids[0]!, 'state.json'), 'utf8'));
  assert.is(state.id, ids[0]);
  return state;
}

/**
 * Runs `look` once the pod is ready, then lets the pod finish (`finish`,
 * by default the handshake's done) whatever `look` did, and waits for
 * minipod: a failed look must not leave the pod running into the baseline check.
 */
async function whileRunning<T, R extends { exitCode?: number | undefined; all?: string | undefined }>(
  scratch: Scratch,
  running: Promise<R>,
  ready: () => Promise<unknown>,
  look: () => T | Promise<T>,
  finish: () => void,
) {
  let seen: T;
  try {
    await Promise.race([ready(), running.then((r) => {
      throw new Error(`minipod ended before the pod was ready (exit ${r.exitCode}):\n${r.all}`);
    })]);
    // The state says Running once every container has started, which may be after the first is ready.
    const isRunning = (id: string) => {
      try {
        return JSON.parse(readFileSync(join(scratch.root, id, 'state.json'), 'utf8')).phase === 'Running';
      } catch {
        return false;
      }
    };
    await waitFor(() => (podIds(scratch.root).some(isRunning) ? true : undefined), 'the state to say Running');
    seen = await look();
  } catch (err) {
    finish();
    await running;
    throw err;
  }
  finish();
  return { seen, r: await running };
}

/** SIGTERM to minipod; not running.kill(): Deno's child_process then reports the signal, not the exit code. */
function stop(running: ReturnType<Scratch['minipod']>): void {
  if (running.pid !== undefined) process.kill(running.pid, 'SIGTERM');
}

/** A container whose PID 1 (dd) allocates a 100 MiB buffer: far past a 32Mi limit. */
const HOG = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'];

test('a 32Mi container allocating 100 MiB is OOMKilled (137) while the other container of the pod keeps running', async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('oom.json', cgPod('oom', [
    { name: 'hog', command: HOG, resources: { limits: { memory: '32Mi' } } },
    // Says what it saw only once the test has seen the hog killed.
    { name: 'calm', mounts: true, command: sh(`${sig.handshake('calm')}; echo still here`) },
  ], {}, [sig.volume]));
  const running = scratch.minipod(['run', '-o', 'json', file]);
  const { seen, r } = await whileRunning(scratch, running, () => sig.ready('calm'), async () => {
    const { id } = podState(scratch);
    const hog = cgroupDir('memory', id, 'hog');
    // The kernel counted the hog's OOM kill and its cgroup is empty, while calm still runs.
    const oomKill = () => /^oom_kill (\d+)$/m.exec(read(`${hog}/memory.oom_control`))?.[1];
    await waitFor(() => (oomKill() !== '0' && read(`${hog}/cgroup.procs`) === '' ? true : undefined), 'the hog to be OOM-killed');
    return {
      limit: read(`${hog}/memory.limit_in_bytes`),
      oomKill: oomKill(),
      calmRuns: read(`${cgroupDir('memory', id, 'calm')}/cgroup.procs`) !== '',
    };
  }, sig.done);
  assert.equal(seen, { limit: String(32 * 1024 * 1024), oomKill: '1', calmRuns: true });
  assert.is(r.exitCode, 137, r.all);
  assert.equal(linesOf(r.stderr, 'calm'), ['still here']);
  const status = JSON.parse(r.stdout);
  assert.is(status.phase, 'Failed');
  const [hog, calm] = status.containerStatuses;
  assert.is(hog.name, 'hog');
  assert.equal([hog.state.terminated.exitCode, hog.state.terminated.reason], [137, 'OOMKilled']);
  assert.is(calm.name, 'calm');
  assert.equal([calm.state.terminated.exitCode, calm.state.terminated.reason], [0, 'Completed']);
});

test('an OOM kill of a child, not the main process, is OOMKilled too, with the exit code the main process chose', async ({ scratch }) => {
  const file = scratch.manifest('child.json', cgPod('child', [{
    name: 'c',
    command: sh(`${HOG.join(' ')} 2>/dev/null; echo "dd: $?"; exit 3`),
    resources: { limits: { memory: '32Mi' } },
  }]));
  const r = await scratch.minipod(['run', '-o', 'json', file]);
  assert.is(r.exitCode, 3, r.all);
  assert.equal(linesOf(r.stderr, 'c'), ['dd: 137']);
  const { terminated } = JSON.parse(r.stdout).containerStatuses[0].state;
  assert.equal([terminated.exitCode, terminated.reason], [3, 'OOMKilled']);
});

test('OOMKilled under restartPolicy OnFailure: restarted, counted, OOMKilled in lastState; the next run is Completed', async ({ scratch }) => {
  // OOM-killed on its first run only: the emptyDir outlives the container.
  const script = `if [ -e /shared/tried ]; then echo second run; else touch /shared/tried; exec ${HOG.join(' ')}; fi`;
  const manifest = cgPod('again', [{ name: 'hog', command: sh(script), resources: { limits: { memory: '32Mi' } } }], {
    restartPolicy: 'OnFailure',
  }, [{ name: 'shared', emptyDir: {} }]);
  manifest.spec.containers[0]!.volumeMounts = [{ name: 'shared', mountPath: '/shared' }];
  const r = await scratch.minipod(['run', '--backoff', '0.1', '-o', 'json', scratch.manifest('again.json', manifest)]);
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.stderr, 'container "hog" exited with 137; restarting in 0.1s (restartPolicy OnFailure)');
  assert.equal(linesOf(r.stderr, 'hog'), ['second run']);
  const status = JSON.parse(r.stdout);
  assert.is(status.phase, 'Succeeded');
  const [hog] = status.containerStatuses;
  assert.is(hog.restartCount, 1);
  assert.equal([hog.lastState.terminated.exitCode, hog.lastState.terminated.reason], [137, 'OOMKilled']);
  assert.equal([hog.state.terminated.exitCode, hog.state.terminated.reason], [0, 'Completed']);
});

test('a fork bomb under --pids-limit 64 is held at 64 processes, and the pod still stops with every process gone', async ({ scratch }) => {
  const sig = signals(scratch);
  // An inner shell starts sleeps until fork fails, which ends it; the outer
  // one (PID 1 of the container) reports, and stays with the 61 sleeps.
  // 64 = the pause + the outer shell + the inner shell + 61 sleeps.
  const bomb = [
    `sh -c 'n=0; while :; do sleep 30 & n=$((n+1)); echo $n > /signals/n; done'`,
    'echo "fork failed after $(cat /signals/n) sleeps"',
    ': > /signals/ready-bomb',
    'exec sleep 60',
  ].join('; ');
  const file = scratch.manifest('bomb.json', cgPod('bomb', [{ name: 'bomb', mounts: true, command: sh(bomb) }], {}, [sig.volume]));
  const running = scratch.minipod(['run', '--pids-limit', '64', '--grace', '0.3', file]);
  const { seen, r } = await whileRunning(scratch, running, () => sig.ready('bomb'), () => {
    const { id } = podState(scratch);
    const pod = cgroupDir('pids', id);
    return {
      id,
      max: read(`${pod}/pids.max`),
      // The pause, `exec sleep 60` and 61 sleeps: the inner shell and the $(cat) have exited.
      current: read(`${pod}/pids.current`),
      container: read(`${cgroupDir('pids', id, 'bomb')}/pids.current`),
    };
  }, () => stop(running));
  assert.equal(seen, { id: seen.id, max: '64', current: '63', container: '62' });
  assert.is(r.exitCode, 143, r.all);
  assert.not.ok(existsSync(cgroupDir('pids', seen.id)), 'the pod cgroup is removed');
  assert.equal(linesOf(r.stdout, 'bomb'), ['fork failed after 61 sleeps']);
  assert.equal(linesOf(r.stderr, 'bomb'), ["sh: can't fork: Resource temporarily unavailable"]);
});

test('a real fork bomb, bomb() { bomb | bomb & }, fills the pod to 64 processes and no further; the pod still stops', async ({ scratch }) => {
  // PID 1 of the container stays (exec sleep): its end would end the bomb with its PID namespace.
  const file = scratch.manifest('bomb.json', cgPod('bomb', [{ name: 'bomb', command: sh('bomb() { bomb | bomb & }; bomb; exec sleep 60') }]));
  const running = scratch.minipod(['run', '--pids-limit', '64', '--grace', '0.3', file]);
  let pod = '';
  const { seen, r } = await whileRunning(scratch, running, () => waitFor(() => {
    const [id] = podIds(scratch.root);
    pod = id ? cgroupDir('pids', id) : '';
    return pod && existsSync(pod) && read(`${pod}/pids.current`) === '64' ? true : undefined;
  }, 'the bomb to reach the limit'), () => {
    const counts: string[] = [];
    for (let i = 0; i < 5; i++) counts.push(read(`${pod}/pids.current`));
    return { max: read(`${pod}/pids.max`), counts };
  }, () => stop(running));
  assert.equal(seen, { max: '64', counts: ['64', '64', '64', '64', '64'] });
  assert.is(r.exitCode, 143, r.all);
  // Dozens of shells write to one pipe, busybox's "sh: " and the message in two writes: they interleave.
  const failures = linesOf(r.stderr, 'bomb').join('\n');
  assert.match(failures, "sh: can't fork: Resource temporarily unavailable");
  assert.is(failures.replace(/sh: |can't fork: Resource temporarily unavailable|\n/g, ''), '', failures);
  assert.not.ok(existsSync(pod), 'the pod cgroup is removed');
});

test('the pids limit is 4096 by default', async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('pids.json', cgPod('pids', [{ name: 'c', mounts: true, command: sh(sig.handshake('c')) }], {}, [sig.volume]));
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', file]), () => sig.ready('c'), () => {
    const { id } = podState(scratch);
    return [read(`${cgroupDir('pids', id)}/pids.max`), read(`${cgroupDir('pids', id, 'c')}/pids.max`)];
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(seen, ['4096', 'max']);
});

/** The cpu and memory files of a cgroup. */
function limitsOf(id: string, sub = '') {
  const cpu = cgroupDir('cpu', id, sub);
  return {
    quota: read(`${cpu}/cpu.cfs_quota_us`),
    period: read(`${cpu}/cpu.cfs_period_us`),
    shares: read(`${cpu}/cpu.shares`),
    memory: read(`${cgroupDir('memory', id, sub)}/memory.limit_in_bytes`),
  };
}

/** memory.limit_in_bytes of a cgroup without a limit: PAGE_COUNTER_MAX pages (4 KiB pages on x86_64). */
const UNLIMITED = '9223372036854771712';

test("limits.cpu and memory, requests.cpu: the kubelet's values in the containers' cgroups, the sums in the pod's", async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('limits.json', cgPod('limits', [
    // A cpu limit without a request: the request is the limit (shares 256).
    { name: 'a', mounts: true, command: sh(sig.handshake('a')), resources: { limits: { cpu: '250m', memory: '64Mi' } } },
    { name: 'b', mounts: true, command: sh(sig.handshake('b')), resources: { limits: { cpu: '500m', memory: '32Mi' }, requests: { cpu: '100m' } } },
  ], {}, [sig.volume]));
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', file]), () => sig.ready('a', 'b'), () => {
    const { id } = podState(scratch);
    return { pod: limitsOf(id), a: limitsOf(id, 'a'), b: limitsOf(id, 'b') };
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(seen, {
    // Requests 250m + 100m = 350m: 350 * 1024 / 1000 = 358.
    pod: { quota: '75000', period: '100000', shares: '358', memory: String(96 * 1024 * 1024) },
    a: { quota: '25000', period: '100000', shares: '256', memory: '67108864' },
    b: { quota: '50000', period: '100000', shares: '102', memory: '33554432' },
  });
});

test('a container without resources: shares 2, no quota, no memory limit; and the pod then has no limits either', async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('some.json', cgPod('some', [
    { name: 'limited', mounts: true, command: sh(sig.handshake('limited')), resources: { limits: { cpu: '250m', memory: '64Mi' } } },
    { name: 'free', mounts: true, command: sh(sig.handshake('free')) },
  ], {}, [sig.volume]));
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', file]), () => sig.ready('limited', 'free'), () => {
    const { id } = podState(scratch);
    return { pod: limitsOf(id), limited: limitsOf(id, 'limited'), free: limitsOf(id, 'free') };
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  assert.is(read('/sys/fs/cgroup/memory/memory.limit_in_bytes'), UNLIMITED, "the kernel's word for no limit on this machine");
  assert.equal(seen, {
    pod: { quota: '-1', period: '100000', shares: '256', memory: UNLIMITED },
    limited: { quota: '25000', period: '100000', shares: '256', memory: '67108864' },
    free: { quota: '-1', period: '100000', shares: '2', memory: UNLIMITED },
  });
});

test("an init container larger than the apps: the pod gets the init container's limits, the larger", async ({ scratch }) => {
  const sig = signals(scratch);
  const manifest = cgPod('init', [
    // Numbers are quantities too: 67108864 bytes, half a cpu.
    { name: 'a', mounts: true, command: sh(sig.handshake('a')), resources: { limits: { memory: 67108864 as never, cpu: 0.5 as never } } },
    { name: 'b', mounts: true, command: sh(sig.handshake('b')), resources: { limits: { memory: '64M', cpu: '1' }, requests: { cpu: '1m' } } },
  ], {}, [sig.volume]);
  Object.assign(manifest.spec, {
    initContainers: [{ name: 'init', image: 'busybox', command: ['true'], resources: { limits: { memory: '200Mi', cpu: '2' } } }],
  });
  const file = scratch.manifest('init.json', manifest);
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', file]), () => sig.ready('a', 'b'), () => {
    const { id } = podState(scratch);
    return { pod: limitsOf(id), init: limitsOf(id, 'init'), a: limitsOf(id, 'a'), b: limitsOf(id, 'b') };
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(seen, {
    // max(apps 64Mi + 64M, init 200Mi); cpu max(1500m, 2000m); requests max(500m + 1m, 2000m).
    pod: { quota: '200000', period: '100000', shares: '2048', memory: '209715200' },
    init: { quota: '200000', period: '100000', shares: '2048', memory: '209715200' },
    a: { quota: '50000', period: '100000', shares: '512', memory: '67108864' },
    // 1m: 1 * 1024 / 1000 rounds to 1, below the kernel's minimum of 2.
    b: { quota: '100000', period: '100000', shares: '2', memory: '64000000' },
  });
});

test('an init container OOMKilled under restartPolicy Never fails the pod: Init:OOMKilled, exit 137', async ({ scratch }) => {
  const manifest = cgPod('initoom', [{ name: 'app', command: ['echo', 'app ran'] }]);
  Object.assign(manifest.spec, { initContainers: [{ name: 'hog', image: 'busybox', command: HOG, resources: { limits: { memory: '32Mi' } } }] });
  const r = await scratch.minipod(['run', scratch.manifest('initoom.json', manifest)]);
  assert.is(r.exitCode, 137, r.all);
  assert.not.match(r.all, 'app ran');
  assert.match(r.stderr, /^initoom\s+0\/1\s+Init:OOMKilled\s/m);
  assert.match(r.stderr, /^hog \(init\)\s+terminated\s+137\s+OOMKilled\s/m);
});

test("every process of the pod is in its container's cgroups, the pause in _pause; a process is in them from its exec on", async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('where.json', cgPod('where', [
    { name: 'one', mounts: true, command: sh(`sleep 31.4 & ${sig.handshake('one')}`) },
    { name: 'two', mounts: true, command: sh(`sleep 31.5 & ${sig.handshake('two')}`) },
    // cat itself reads where it is: it joined before it was exec'd.
    { name: 'cat', command: ['cat', '/proc/self/cgroup'] },
  ], {}, [sig.volume]));
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', file]), () => sig.ready('one', 'two'), () => {
    const state = podState(scratch);
    const pidOf = (name: string) => state.containers.find((c) => c.name === name)!.process!.pid;
    /** The container's main process and its `sleep` child. */
    const processes = (name: string, sleep: string) => {
      const main = pidOf(name);
      const children = read(`/proc/${main}/task/${main}/children`).split(' ').map(Number);
      const child = children.find((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1') === `sleep\0${sleep}\0`);
      assert.ok(child, `the sleep ${sleep} of ${name} among its children ${children}`);
      return [cgroupsOf(main), cgroupsOf(child!)];
    };
    return { id: state.id, pause: cgroupsOf(state.pause.pid), one: processes('one', '31.4'), two: processes('two', '31.5') };
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  const expect = (sub: string) => Object.fromEntries(CONTROLLERS.map((c) => [c, cgroupPath(c, seen.id, sub)]));
  assert.equal(seen.pause, expect('_pause'));
  assert.equal(seen.one, [expect('one'), expect('one')]);
  assert.equal(seen.two, [expect('two'), expect('two')]);
  // Without a cgroup namespace the container sees the host's paths.
  const inside = Object.fromEntries(linesOf(r.stdout, 'cat').flatMap((line) => {
    const [, names = '', path = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    return names.split(',').filter((n) => (CONTROLLERS as readonly string[]).includes(n)).map((n) => [n, path]);
  }));
  assert.equal(inside, expect('cat'));
});

test('--stats: after the status table, one row per container: memory, peak, cpu seconds with 3 decimals, pids', async ({ scratch }) => {
  const file = scratch.manifest('stats.json', cgPod('stats', [
    // dd's 16 MiB buffer, written over 20 times.
    { name: 'alloc', command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=16M', 'count=20'] },
    { name: 'idle', command: ['true'] },
  ]));
  const r = await scratch.minipod(['run', '--stats', file]);
  assert.is(r.exitCode, 0, r.all);
  const lines = r.stderr.split('\n').filter(Boolean);
  const header = lines.findIndex((l) => l.startsWith('CONTAINER') && l.includes('PEAK'));
  assert.ok(header > lines.findIndex((l) => l.startsWith('CONTAINER') && l.includes('STATE')), `the stats after the status table:\n${r.stderr}`);
  assert.equal(lines[header]!.split(/\s+/), ['CONTAINER', 'MEMORY', 'PEAK', 'CPU', 'PIDS']);
  const rows = lines.slice(header + 1).map((l) => l.split(/\s+/));
  assert.equal(rows.map((row) => row[0]), ['alloc', 'idle'], r.stderr);
  const size = /^(\d+(?:\.\d)?)(Ki|Mi)$/;
  for (const [name, memory, peak, cpu, pids] of rows) {
    assert.match(memory!, size, `${name}'s memory`);
    assert.match(peak!, size, `${name}'s peak`);
    assert.match(cpu!, /^\d+\.\d{3}s$/, `${name}'s cpu`);
    assert.is(pids, '0', `${name} had ended when the pod stopped`);
  }
  const [, peak = '', unit] = size.exec(rows[0]![2]!) ?? [];
  assert.ok(unit === 'Mi' && Number(peak) >= 16, `alloc's peak holds its 16 MiB buffer: ${rows[0]![2]}`);
  assert.ok(Number.parseFloat(rows[0]![3]!) > 0, `alloc used cpu: ${rows[0]![3]}`);
  assert.ok(Number(size.exec(rows[1]![2]!)?.[1]) > 0, `idle's peak: ${rows[1]![2]}`);
});

test('--stats of a pod stopped while running: its pids at the stop', async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('stopped.json', cgPod('stopped', [
    { name: 'c', mounts: true, command: sh('sleep 30 & sleep 31 & : > /signals/ready-c; exec sleep 32') },
  ], {}, [sig.volume]));
  const running = scratch.minipod(['run', '--stats', '--grace', '0.2', file]);
  const { r } = await whileRunning(scratch, running, () => sig.ready('c'), () => undefined, () => stop(running));
  assert.is(r.exitCode, 143, r.all);
  const lines = r.stderr.split('\n');
  const row = lines[lines.findIndex((l) => /^CONTAINER\s+MEMORY/.test(l)) + 1]!.split(/\s+/);
  assert.equal([row[0], row[4]], ['c', '3'], r.stderr);
});

test('--cgroup-manager disabled: no cgroup is made, the pod stays in minipod\'s own cgroups and still runs', async ({ scratch }) => {
  const sig = signals(scratch);
  const roots = minipodCgroupRoots();
  // Others may run pods on this machine meanwhile: only what was not there before counts.
  const absent = roots.filter((root) => !existsSync(root));
  const file = scratch.manifest('none.json', cgPod('none', [
    { name: 'c', mounts: true, command: sh(`echo running; ${sig.handshake('c')}`), resources: { limits: { memory: '32Mi', cpu: '250m' } } },
  ], {}, [sig.volume]));
  const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', '--cgroup-manager', 'disabled', '--stats', file]), () => sig.ready('c'), () => {
    const state = podState(scratch);
    return {
      created: [...absent.filter((root) => existsSync(root)), ...roots.map((root) => join(root, state.id)).filter((dir) => existsSync(dir))],
      cgroups: cgroupsOf(state.containers[0]!.process!.pid),
    };
  }, sig.done);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(seen, { created: [], cgroups: cgroupsOf('self') });
  assert.equal(linesOf(r.stdout, 'c'), ['running']);
  // No accounting either.
  assert.match(r.stderr, /^c\s+-\s+-\s+-\s+-$/m);
});

/** Whatever a failed test left of these cgroups: deepest first, waiting for their processes to be gone. */
async function removeTrees(tops: string[]): Promise<void> {
  const below = (dir: string): string[] => (existsSync(dir)
    ? [...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => below(join(dir, e.name))), dir]
    : []);
  for (const dir of tops.flatMap(below)) {
    for (let i = 0; i < 100; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

test('--cgroup-parent: the pod under that path in every hierarchy, and all minipod made of it removed afterwards', async ({ scratch }) => {
  const top = `/minipod-test-${Math.random().toString(16).slice(2, 10)}`;
  const parent = `${top}/pods`;
  const tops = [...new Set(CONTROLLERS.map((c) => join(hierarchies()[c].mount, top)))];
  assert.equal(tops.filter((dir) => existsSync(dir)), [], 'a fresh parent');
  try {
    const sig = signals(scratch);
    const file = scratch.manifest('parent.json', cgPod('parent', [
      { name: 'c', mounts: true, command: sh(sig.handshake('c')), resources: { limits: { memory: '64Mi' } } },
    ], {}, [sig.volume]));
    const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', '--cgroup-parent', parent, file]), () => sig.ready('c'), () => {
      const state = podState(scratch);
      const dirs = CONTROLLERS.flatMap((c) => [cgroupDir(c, state.id, '', parent), cgroupDir(c, state.id, 'c', parent), cgroupDir(c, state.id, '_pause', parent)]);
      return {
        id: state.id,
        missing: dirs.filter((dir) => !existsSync(dir)),
        cgroups: cgroupsOf(state.containers[0]!.process!.pid),
        memory: read(`${cgroupDir('memory', state.id, 'c', parent)}/memory.limit_in_bytes`),
        underDefault: minipodCgroupRoots().filter((root) => existsSync(join(root, state.id))),
      };
    }, sig.done);
    assert.is(r.exitCode, 0, r.all);
    assert.equal(seen, {
      id: seen.id,
      missing: [],
      cgroups: Object.fromEntries(CONTROLLERS.map((c) => [c, `${parent}/${seen.id}/c`])),
      memory: '67108864',
      underDefault: [],
    });
    assert.equal(tops.filter((dir) => existsSync(dir)), [], 'the parent minipod created is gone');
  } finally {
    await removeTrees(tops);
  }
});

test('--cgroup-parent that exists already: the pod goes under it, and the parent stays', async ({ scratch }) => {
  const parent = `/minipod-test-${Math.random().toString(16).slice(2, 10)}`;
  const dirs = [...new Set(CONTROLLERS.map((c) => join(hierarchies()[c].mount, parent)))];
  for (const dir of dirs) mkdirSync(dir);
  try {
    const sig = signals(scratch);
    const file = scratch.manifest('mine.json', cgPod('mine', [{ name: 'c', mounts: true, command: sh(sig.handshake('c')) }], {}, [sig.volume]));
    const { seen, r } = await whileRunning(scratch, scratch.minipod(['run', '--cgroup-parent', parent, file]), () => sig.ready('c'), () => {
      const state = podState(scratch);
      return { id: state.id, cgroups: cgroupsOf(state.containers[0]!.process!.pid) };
    }, sig.done);
    assert.is(r.exitCode, 0, r.all);
    assert.equal(seen.cgroups, Object.fromEntries(CONTROLLERS.map((c) => [c, `${parent}/${seen.id}/c`])));
    assert.equal(dirs.map((dir) => [existsSync(dir), readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).length]), dirs.map(() => [true, 0]));
  } finally {
    await removeTrees(dirs);
  }
});

test('two pods at once: each in its own cgroups under the shared minipod directory, both removed', async ({ scratch }) => {
  const sig = signals(scratch);
  const files = ['one', 'two'].map((name) => scratch.manifest(`${name}.json`, cgPod(name, [
    { name: 'c', mounts: true, command: sh(`${sig.handshake(name)}; cat /proc/self/cgroup`), resources: { limits: { memory: name === 'one' ? '32Mi' : '64Mi' } } },
  ], {}, [sig.volume])));
  const both = Promise.all(files.map((file) => scratch.minipod(['run', file])));
  const { seen, r } = await whileRunning(scratch, both.then(() => ({ exitCode: 0 })), () => sig.ready('one', 'two'), () => {
    const ids = podIds(scratch.root).sort();
    return Object.fromEntries(ids.map((id) => [read(`${cgroupDir('memory', id, 'c')}/memory.limit_in_bytes`), id]));
  }, sig.done);
  assert.is(r.exitCode, 0);
  const results = await both;
  for (const result of results) assert.is(result.exitCode, 0, result.all);
  const memoryOf = (result: { stdout: string }) => linesOf(result.stdout, 'c').find((l) => /:memory:/.test(l))?.replace(/^\d+:memory:/, '');
  assert.equal(results.map(memoryOf), [cgroupPath('memory', seen['33554432']!, 'c'), cgroupPath('memory', seen['67108864']!, 'c')]);
});

test('two pods under the same new --cgroup-parent, its creator ending first: the parent is removed once both have ended', async ({ scratch }) => {
  const top = `/minipod-test-${Math.random().toString(16).slice(2, 10)}`;
  const tops = [...new Set(CONTROLLERS.map((c) => join(hierarchies()[c].mount, top)))];
  try {
    const sig = signals(scratch);
    const wait = (name: string) =>
      `touch /signals/ready-${name}; i=0; while [ ! -e /signals/done-${name} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`;
    const start = (name: string) => scratch.minipod(['run', '--cgroup-parent', top, scratch.manifest(`${name}.json`, cgPod(name, [
      { name: 'c', mounts: true, command: sh(wait(name)) },
    ], {}, [sig.volume]))]);
    const first = start('first');
    let second: ReturnType<Scratch['minipod']> | null = null;
    try {
      await sig.ready('first');
      second = start('second'); // finds the parent there
      await sig.ready('second');
      writeFileSync(join(sig.dir, 'done-first'), '');
      const r1 = await first;
      assert.is(r1.exitCode, 0, r1.all);
      assert.equal(tops.filter((dir) => !existsSync(dir)), [], 'the parent stays while the second pod uses it');
    } finally {
      writeFileSync(join(sig.dir, 'done-first'), '');
      writeFileSync(join(sig.dir, 'done-second'), '');
      await first;
      const r2 = await second;
      if (r2) assert.is(r2.exitCode, 0, r2.all);
    }
    assert.equal(tops.filter((dir) => existsSync(dir)), [], 'the parent minipod created is gone once no pod uses it');
  } finally {
    await removeTrees(tops);
  }
});

for (const [args, option] of [
  [['--pids-limit', '0'], '--pids-limit'],
  [['--pids-limit', 'abc'], '--pids-limit'],
  [['--pids-limit=-5'], '--pids-limit'],
  [['--cgroup-parent', 'relative/path'], '--cgroup-parent'],
  [['--cgroup-parent', '/a/../b'], '--cgroup-parent'],
  [['--cgroup-manager', 'systemd'], '--cgroup-manager'],
] as const) {
  test(`bad flag ${args.join(' ')}: exit 125, one line naming ${option}`, async ({ scratch }) => {
    const file = scratch.manifest('ok.json', cgPod('ok', [{ name: 'c', command: ['true'] }]));
    const r = await scratch.minipod(['run', ...args, file]);
    assert.is(r.exitCode, 125, r.all);
    assert.is(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.is(lines.length, 1, r.stderr);
    const value = args.length === 1 ? args[0].slice(option.length + 1) : args[1];
    const quoted = JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(lines[0]!, new RegExp(`^minipod: ${option}: (Invalid|Unsupported) value: ${quoted}: `));
  });
}

test('a --pids-limit the kernel refuses (above PID_MAX_LIMIT) fails the pod before it starts, leaving nothing', async ({ scratch }) => {
  const file = scratch.manifest('big.json', cgPod('big', [{ name: 'c', command: sh('echo ran') }]));
  const r = await scratch.minipod(['run', '--pids-limit', '5000000', file]);
  assert.is(r.exitCode, 125, r.all);
  assert.not.match(r.all, 'ran');
  assert.match(r.stderr, /pids\.max: EINVAL/);
});

run();
