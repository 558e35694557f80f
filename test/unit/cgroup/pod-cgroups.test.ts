// createPodCgroups against fake cgroupfs trees in a temporary directory: a
// cgroup v2 machine (which this one cannot become), this machine's hybrid v1
// layout, and a v1 machine with cpu and cpuacct mounted together. KernelFs
// adds to the plain CgroupFs the little the kernel does that a temp
// directory does not: rmdir refuses a populated cgroup or one with children
// and takes the interface files with the directory, and cgroup.kill empties
// the subtree's cgroup.procs.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CgroupLayout, Hierarchy } from '../../../lib/cgroup/detect.ts';
import { CgroupFs } from '../../../lib/cgroup/fs.ts';
import {
  type ContainerResources,
  containerResources,
  milliCpuToQuota,
  milliCpuToShares,
  podResources,
  sharesToWeight,
} from '../../../lib/cgroup/limits.ts';
import { type CgroupOptions, createPodCgroups } from '../../../lib/cgroup/pod-cgroups.ts';
import { MinipodError } from '../../../lib/errors.ts';
import { minipodError, rejects } from '../../helpers/assert.ts';

// ---------------------------------------------------------------------------
// Layouts, as detectCgroups returns them.

const V2_MOUNT = '/sys/fs/cgroup';
/** The pid of the process running minipod in the fake machines. */
const SELF = 4242;
const SCOPE = '/user.slice/x.scope';

function v2Layout(): CgroupLayout {
  const unified: Hierarchy = { version: 2, mount: V2_MOUNT, path: SCOPE };
  return { mode: 'v2', controllers: { memory: unified, cpu: unified, pids: unified, cpuacct: null } };
}

const MEMORY_PATH = '/process_api/abc';

/** This machine: every controller its own v1 hierarchy, memory in a sub-cgroup. */
function hybridLayout(): CgroupLayout {
  const v1 = (mount: string, path = '/'): Hierarchy => ({ version: 1, mount, path });
  return {
    mode: 'hybrid',
    controllers: {
      memory: v1('/sys/fs/cgroup/memory', MEMORY_PATH),
      cpu: v1('/sys/fs/cgroup/cpu'),
      cpuacct: v1('/sys/fs/cgroup/cpuacct'),
      pids: v1('/sys/fs/cgroup/pids'),
    },
  };
}

/** systemd's v1 layout: cpu and cpuacct co-mounted, one hierarchy. */
function comountedLayout(): CgroupLayout {
  const cpu: Hierarchy = { version: 1, mount: '/sys/fs/cgroup/cpu,cpuacct', path: '/' };
  return {
    mode: 'v1',
    controllers: {
      memory: { version: 1, mount: '/sys/fs/cgroup/memory', path: '/' },
      cpu,
      cpuacct: { ...cpu },
      pids: { version: 1, mount: '/sys/fs/cgroup/pids', path: '/' },
    },
  };
}

// ---------------------------------------------------------------------------
// The fake cgroupfs.

/** CgroupFs plus what the kernel would do; records mkdir and write calls. */
class KernelFs extends CgroupFs {
  readonly mkdirs: string[] = [];
  readonly writes: [path: string, text: string][] = [];
  readonly rmdirs: string[] = [];
  private readonly refused = new Set<string>();

  /** Make writes to `path` fail as the kernel refuses a value (EINVAL). */
  refuse(path: string): void {
    this.refused.add(path);
  }

  override mkdir(path: string): boolean {
    this.mkdirs.push(path);
    return super.mkdir(path);
  }

  /** Set on a v2 machine: its mount point, where the v2 rules below apply. */
  v2Mount: string | null = null;

  override write(path: string, text: string): void {
    if (this.refused.has(path)) throw new MinipodError(`write ${JSON.stringify(text)} to ${path}: EINVAL`);
    if (this.v2Mount) this.v2Rules(path, text);
    this.writes.push([path, text]);
    super.write(path, text);
    // cgroup.kill: every process of the subtree is killed, and leaves it.
    if (path.endsWith('/cgroup.kill') && text === '1') {
      for (const file of procsFiles(this.hostPath(dirname(path)))) writeFileSync(file, '');
    }
  }

  /**
   * What cgroup v2 refuses: enabling controllers for the children of a
   * cgroup that has processes of its own, the root excepted (the "no
   * internal processes" rule: EBUSY); and a controller's files where the
   * parent has not enabled it (they do not exist: ENOENT).
   */
  private v2Rules(path: string, text: string): void {
    const dir = dirname(path);
    const file = path.slice(dir.length + 1);
    const fail = (errno: string) => {
      throw new MinipodError(`write ${JSON.stringify(text)} to ${path}: ${errno}`);
    };
    if (file === 'cgroup.subtree_control') {
      if (dir !== this.v2Mount && (this.read(`${dir}/cgroup.procs`) ?? '').trim() !== '') fail('EBUSY');
      return;
    }
    const controller = /^(memory|cpu|pids)\./.exec(file)?.[1];
    if (controller && dir !== this.v2Mount) {
      const enabled = (this.read(`${dirname(dir)}/cgroup.subtree_control`) ?? '').split(/\s+/).map((c) => c.replace(/^\+/, ''));
      if (!enabled.includes(controller)) fail('ENOENT');
    }
  }

  /** cgroup_destroy_locked: EBUSY while populated or with a child cgroup; the interface files go with the directory. */
  override rmdir(path: string): string | null {
    this.rmdirs.push(path);
    const dir = this.hostPath(path);
    if (existsSync(dir)) {
      const entries = readdirSync(dir, { withFileTypes: true });
      if (entries.some((e) => e.isDirectory())) return 'EBUSY';
      if ((this.read(`${path}/cgroup.procs`) ?? '').trim() !== '') return 'EBUSY';
      for (const e of entries) rmSync(join(dir, e.name));
    }
    return super.rmdir(path);
  }
}

function procsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? procsFiles(join(dir, e.name)) : e.name === 'cgroup.procs' ? [join(dir, e.name)] : []);
}

/** A temp directory holding the cgroup mounts and this process's own cgroups, as a machine has them. */
class FakeMachine {
  readonly root = mkdtempSync(join(tmpdir(), 'minipod-cgroup-'));
  readonly fs = new KernelFs(this.root);

  /** This process (`SELF`) is in its own cgroups, as minipod is on a real machine. */
  constructor(layout: CgroupLayout, files: Record<string, string> = {}) {
    for (const h of Object.values(layout.controllers)) {
      if (!h) continue;
      mkdirSync(this.root + h.mount + h.path, { recursive: true });
      if (h.version === 2) this.fs.v2Mount = h.mount;
      if (h.path !== '/') this.enter(h.mount + h.path, SELF);
    }
    for (const [path, text] of Object.entries(files)) this.file(path, text);
  }

  file(path: string, text: string): void {
    mkdirSync(dirname(this.root + path), { recursive: true });
    writeFileSync(this.root + path, text);
  }

  read(path: string): string | null {
    return existsSync(this.root + path) ? readFileSync(this.root + path, 'utf8') : null;
  }

  exists(path: string): boolean {
    return existsSync(this.root + path);
  }

  /** Processes in a cgroup: its cgroup.procs lists them. */
  enter(dir: string, ...pids: number[]): void {
    writeFileSync(`${this.root}${dir}/cgroup.procs`, pids.map((pid) => `${pid}\n`).join(''));
  }

  /** A process exits: it leaves every cgroup.procs. */
  exit(pid: number): void {
    for (const file of procsFiles(this.root)) {
      const left = readFileSync(file, 'utf8').split('\n').filter((line) => line !== '' && line !== String(pid));
      writeFileSync(file, left.map((line) => `${line}\n`).join(''));
    }
  }

  /** Every directory (ending in '/') and file under the root, with its text. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const e of readdirSync(this.root + rel, { withFileTypes: true })) {
        const path = `${rel}/${e.name}`;
        if (e.isDirectory()) {
          out[`${path}/`] = '';
          walk(path);
        } else out[path] = readFileSync(this.root + path, 'utf8');
      }
    };
    walk('');
    return out;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** What changed between two snapshots: new or changed paths with their text, removed ones as null. */
function changes(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [path, text] of Object.entries(after)) if (before[path] !== text) out[path] = text;
  for (const path of Object.keys(before)) if (!(path in after)) out[path] = null;
  return out;
}

const isUnder = (path: string, dir: string) => path === `${dir}/` || path.startsWith(`${dir}/`);

// ---------------------------------------------------------------------------
// Resources.

/** limits.memory 128Mi, limits.cpu 250m, requests.cpu 100m. */
const APP = containerResources({ limits: { memory: '128Mi', cpu: '250m' }, requests: { cpu: '100m' } });
/** limits.memory 64Mi, limits.cpu 500m: the request defaults to 500m. */
const LOG = containerResources({ limits: { memory: '64Mi', cpu: '500m' } });
/** No resources at all. */
const BARE = containerResources(undefined);
const OPTIONS: CgroupOptions = { pidsLimit: 1024 };
const NO_LIMITS: ContainerResources = { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: null };

// ---------------------------------------------------------------------------
// cgroup v2

const V2_BASE = `${V2_MOUNT}${SCOPE}/minipod`;
/** The parent of the base is this process's own cgroup: it must hand the controllers down. */
const V2_DELEGATED = { [`${V2_MOUNT}${SCOPE}/cgroup.subtree_control`]: 'cpu memory pids\n' };

test('v2: the kubelet values, in the v2 files, written only under <own cgroup>/minipod', () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const before = machine.snapshot();
    const pod = podResources([APP, LOG], []);
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', pod, OPTIONS);
    const app = cgroups.container('app', APP);
    cgroups.container('log', LOG);

    // 102 shares for 100m, as cpu.weight: the kubelet's linear map.
    assert.is(milliCpuToShares(100n), 102n);
    assert.is(sharesToWeight(102n), 4n);
    // The pod: 192Mi, 750m of limits, 600m of requests (614 shares).
    assert.is(pod.memoryLimit, 201326592n);
    assert.is(String(sharesToWeight(milliCpuToShares(600n))), '24');

    const diff = changes(before, machine.snapshot());
    assert.equal(diff, {
      [`${V2_BASE}/`]: '',
      [`${V2_BASE}/cgroup.subtree_control`]: '+memory +cpu +pids',
      [`${V2_BASE}/pod1/`]: '',
      [`${V2_BASE}/pod1/cgroup.subtree_control`]: '+memory +cpu +pids',
      [`${V2_BASE}/pod1/memory.max`]: '201326592',
      [`${V2_BASE}/pod1/cpu.weight`]: '24',
      [`${V2_BASE}/pod1/cpu.max`]: '75000 100000',
      [`${V2_BASE}/pod1/pids.max`]: '1024',
      [`${V2_BASE}/pod1/_pause/`]: '',
      [`${V2_BASE}/pod1/app/`]: '',
      [`${V2_BASE}/pod1/app/memory.max`]: '134217728',
      [`${V2_BASE}/pod1/app/cpu.weight`]: String(sharesToWeight(milliCpuToShares(100n))),
      [`${V2_BASE}/pod1/app/cpu.max`]: `${milliCpuToQuota(250n)} 100000`,
      [`${V2_BASE}/pod1/log/`]: '',
      [`${V2_BASE}/pod1/log/memory.max`]: '67108864',
      [`${V2_BASE}/pod1/log/cpu.weight`]: '20', // 512 shares
      [`${V2_BASE}/pod1/log/cpu.max`]: '50000 100000',
    });
    assert.is(diff[`${V2_BASE}/pod1/app/cpu.weight`], '4');
    assert.is(diff[`${V2_BASE}/pod1/app/cpu.max`], '25000 100000');
    for (const path of Object.keys(diff)) assert.ok(isUnder(path, V2_BASE), `${path} is outside ${V2_BASE}`);

    // The controllers are handed down before the limits are written.
    assert.equal(machine.fs.writes.slice(0, 2), [
      [`${V2_BASE}/cgroup.subtree_control`, '+memory +cpu +pids'],
      [`${V2_BASE}/pod1/cgroup.subtree_control`, '+memory +cpu +pids'],
    ]);
    // One hierarchy: one cgroup.procs, on the host's path.
    assert.equal(cgroups.pause.procs, [`${machine.root}${V2_BASE}/pod1/_pause/cgroup.procs`]);
    assert.equal(app.procs, [`${machine.root}${V2_BASE}/pod1/app/cgroup.procs`]);
  } finally {
    machine.remove();
  }
});

test('the v2 fake refuses what the kernel refuses, so the tests above pass under its rules', () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const own = `${V2_MOUNT}${SCOPE}`;
    machine.file(`${own}/x/cgroup.procs`, '');
    assert.throws(() => machine.fs.write(`${own}/cgroup.subtree_control`, '+memory'), /EBUSY/);
    machine.fs.write(`${own}/x/memory.max`, '1');
    machine.file(`${own}/x/z/cgroup.procs`, '');
    assert.throws(() => machine.fs.write(`${own}/x/z/pids.max`, '1'), /ENOENT/);
    machine.fs.write(`${own}/x/cgroup.subtree_control`, '+pids');
    machine.file(`${own}/x/y/cgroup.procs`, '');
    assert.throws(() => machine.fs.write(`${own}/x/y/memory.max`, '1'), /ENOENT/);
    machine.fs.write(`${own}/x/y/pids.max`, '1');
  } finally {
    machine.remove();
  }
});

test('v2: a container without a cpu limit gets no cpu.max, and the smallest weight without a request', () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS);
    const before = machine.snapshot();
    cgroups.container('bare', BARE);
    assert.equal(changes(before, machine.snapshot()), {
      [`${V2_BASE}/pod1/bare/`]: '',
      [`${V2_BASE}/pod1/bare/cpu.weight`]: '1', // 2 shares
    });
    // The pod without limits: its weight and pids.max only.
    assert.is(machine.read(`${V2_BASE}/pod1/cpu.weight`), '1');
    assert.is(machine.read(`${V2_BASE}/pod1/pids.max`), '1024');
    assert.is(machine.read(`${V2_BASE}/pod1/memory.max`), null);
    assert.is(machine.read(`${V2_BASE}/pod1/cpu.max`), null);
  } finally {
    machine.remove();
  }
});

test('v2: controllers not delegated to the parent of the base: a MinipodError naming the file and what to enable, nothing created', () => {
  const parentFile = `${V2_MOUNT}${SCOPE}/cgroup.subtree_control`;
  for (const [enabled, lacking] of [
    ['cpu memory\n', '+pids'],
    ['', '+memory +cpu +pids'],
    [null, '+memory +cpu +pids'],
  ] as const) {
    const machine = new FakeMachine(v2Layout(), enabled === null ? {} : { [parentFile]: enabled });
    try {
      const before = machine.snapshot();
      const message = minipodError(() => createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS));
      assert.ok(message.includes(parentFile), message);
      assert.ok(message.includes(`echo "${lacking}" > ${parentFile}`), message);
      assert.ok(message.includes(`not delegated to ${V2_BASE}`), message);
      assert.ok(message.includes('--cgroup-parent'), message);
      assert.equal(changes(before, machine.snapshot()), {}, `nothing created (${JSON.stringify(enabled)})`);
      assert.equal(machine.fs.mkdirs, []);
      assert.equal(machine.fs.writes, []);
    } finally {
      machine.remove();
    }
  }
});

test('v2: the exact message for a parent that enables cpu and memory only', () => {
  const parentFile = `${V2_MOUNT}${SCOPE}/cgroup.subtree_control`;
  const machine = new FakeMachine(v2Layout(), { [parentFile]: 'cpu memory\n' });
  try {
    const message = minipodError(() => createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS));
    assert.is(
      message,
      `cgroup v2: pids not delegated to ${V2_BASE}: ${parentFile} enables only "cpu memory". ` +
        `Enable them there (echo "+pids" > ${parentFile}; a cgroup with processes of its own cannot), ` +
        'or give --cgroup-parent a cgroup whose parent does (as root on systemd: --cgroup-parent /minipod, under the root cgroup, which enables them)',
    );
  } finally {
    machine.remove();
  }
});

test('v2 --cgroup-parent: the check moves to the parent of that path', () => {
  const machine = new FakeMachine(v2Layout(), { [`${V2_MOUNT}/delegated/cgroup.subtree_control`]: 'memory pids cpu io\n' });
  try {
    const before = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, { parent: '/delegated/pods', pidsLimit: 64 });
    assert.equal(cgroups.pause.procs, [`${machine.root}${V2_MOUNT}/delegated/pods/pod1/_pause/cgroup.procs`]);
    assert.is(machine.read(`${V2_MOUNT}/delegated/pods/cgroup.subtree_control`), '+memory +cpu +pids');
    assert.is(machine.read(`${V2_MOUNT}/delegated/pods/pod1/pids.max`), '64');
    for (const path of Object.keys(changes(before, machine.snapshot()))) {
      assert.ok(isUnder(path, `${V2_MOUNT}/delegated/pods`), `${path} is outside the parent`);
    }
  } finally {
    machine.remove();
  }
});

// The root cgroup has every controller: with --cgroup-parent / there is no parent to check.
test('v2 --cgroup-parent /: the root cgroup needs no delegation', () => {
  const machine = new FakeMachine(v2Layout(), { [`${V2_MOUNT}/cgroup.controllers`]: 'cpuset cpu io memory pids\n' });
  try {
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, { parent: '/', pidsLimit: 64 });
    assert.equal(cgroups.pause.procs, [`${machine.root}${V2_MOUNT}/pod1/_pause/cgroup.procs`]);
    assert.is(machine.read(`${V2_MOUNT}/pod1/pids.max`), '64');
  } finally {
    machine.remove();
  }
});

// ---------------------------------------------------------------------------
// cgroup v1

const MEMORY_BASE = `/sys/fs/cgroup/memory${MEMORY_PATH}/minipod`;
const CPU_BASE = '/sys/fs/cgroup/cpu/minipod';
const CPUACCT_BASE = '/sys/fs/cgroup/cpuacct/minipod';
const PIDS_BASE = '/sys/fs/cgroup/pids/minipod';

test('v1 hybrid: the v1 files, in each of the four hierarchies, under <own cgroup>/minipod', () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const before = machine.snapshot();
    // BARE has no limits: the pod has none either, only the summed request.
    const pod = podResources([APP, BARE], []);
    assert.equal(pod, { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: 100n });
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', pod, OPTIONS);
    const app = cgroups.container('app', APP);
    const bare = cgroups.container('bare', BARE);

    const dirs = (base: string) => ({
      [`${base}/`]: '',
      [`${base}/pod1/`]: '',
      [`${base}/pod1/_pause/`]: '',
      [`${base}/pod1/app/`]: '',
      [`${base}/pod1/bare/`]: '',
    });
    assert.equal(changes(before, machine.snapshot()), {
      ...dirs(MEMORY_BASE),
      [`${MEMORY_BASE}/pod1/app/memory.limit_in_bytes`]: '134217728',
      ...dirs(CPU_BASE),
      [`${CPU_BASE}/pod1/cpu.shares`]: '102',
      [`${CPU_BASE}/pod1/app/cpu.shares`]: '102',
      [`${CPU_BASE}/pod1/app/cpu.cfs_period_us`]: '100000',
      [`${CPU_BASE}/pod1/app/cpu.cfs_quota_us`]: '25000',
      [`${CPU_BASE}/pod1/bare/cpu.shares`]: '2',
      ...dirs(CPUACCT_BASE),
      ...dirs(PIDS_BASE),
      [`${PIDS_BASE}/pod1/pids.max`]: '1024',
    });
    // v1 has no subtree_control to write.
    assert.ok(machine.fs.writes.every(([path]) => !path.endsWith('cgroup.subtree_control')));

    // One cgroup.procs per hierarchy, in memory, cpu, pids, cpuacct order.
    assert.equal(app.procs, [
      `${machine.root}${MEMORY_BASE}/pod1/app/cgroup.procs`,
      `${machine.root}${CPU_BASE}/pod1/app/cgroup.procs`,
      `${machine.root}${PIDS_BASE}/pod1/app/cgroup.procs`,
      `${machine.root}${CPUACCT_BASE}/pod1/app/cgroup.procs`,
    ]);
    assert.is(bare.procs.length, 4);
    assert.is(cgroups.pause.procs[0], `${machine.root}${MEMORY_BASE}/pod1/_pause/cgroup.procs`);
  } finally {
    machine.remove();
  }
});

test('v1 hybrid: the pod cgroup gets the summed limits when every container has them', () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    createPodCgroups(machine.fs, hybridLayout(), 'pod1', podResources([APP, LOG], []), OPTIONS);
    assert.is(machine.read(`${MEMORY_BASE}/pod1/memory.limit_in_bytes`), '201326592');
    assert.is(machine.read(`${CPU_BASE}/pod1/cpu.shares`), '614');
    assert.is(machine.read(`${CPU_BASE}/pod1/cpu.cfs_period_us`), '100000');
    assert.is(machine.read(`${CPU_BASE}/pod1/cpu.cfs_quota_us`), '75000');
    assert.is(machine.read(`${PIDS_BASE}/pod1/pids.max`), '1024');
    // pids.max only where pids is; the limits only where their controller is.
    assert.is(machine.read(`${MEMORY_BASE}/pod1/pids.max`), null);
    assert.is(machine.read(`${CPU_BASE}/pod1/pids.max`), null);
    assert.is(machine.read(`${CPUACCT_BASE}/pod1/cpu.shares`), null);
    assert.is(machine.read(`${PIDS_BASE}/pod1/memory.limit_in_bytes`), null);
  } finally {
    machine.remove();
  }
});

test('v1 co-mounted cpu,cpuacct: one tree, not two', () => {
  const machine = new FakeMachine(comountedLayout());
  try {
    const before = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, comountedLayout(), 'pod1', NO_LIMITS, OPTIONS);
    const app = cgroups.container('app', APP);
    const cpu = '/sys/fs/cgroup/cpu,cpuacct/minipod';
    assert.equal(app.procs, [
      `${machine.root}/sys/fs/cgroup/memory/minipod/pod1/app/cgroup.procs`,
      `${machine.root}${cpu}/pod1/app/cgroup.procs`,
      `${machine.root}/sys/fs/cgroup/pids/minipod/pod1/app/cgroup.procs`,
    ]);
    const diff = changes(before, machine.snapshot());
    assert.equal(Object.keys(diff).filter((p) => p.startsWith('/sys/fs/cgroup/cpu,cpuacct/')).sort(), [
      `${cpu}/`,
      `${cpu}/pod1/`,
      `${cpu}/pod1/_pause/`,
      `${cpu}/pod1/app/`,
      `${cpu}/pod1/app/cpu.cfs_period_us`,
      `${cpu}/pod1/app/cpu.cfs_quota_us`,
      `${cpu}/pod1/app/cpu.shares`,
      `${cpu}/pod1/cpu.shares`,
    ]);
    // Each directory made once.
    assert.is(new Set(machine.fs.mkdirs).size, machine.fs.mkdirs.length);
    // cpuacct.usage is read in that one tree.
    machine.file(`${cpu}/pod1/app/cpuacct.usage`, '2500000000\n');
    assert.is(app.stats().cpuSeconds, 2.5);
  } finally {
    machine.remove();
  }
});

test("the pod's cgroup directories are told before any directory is made, so a record of them can exist first", () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    let told: { dirs: readonly string[]; mkdirs: number } | null = null;
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS, (dirs) => {
      told = { dirs: [...dirs], mkdirs: machine.fs.mkdirs.length };
    });
    assert.equal(told!, { dirs: cgroups.dirs, mkdirs: 0 });
    assert.ok(told!.dirs.length > 0 && told!.dirs.every((d) => d.endsWith('/minipod/pod1')), String(told!.dirs));
  } finally {
    machine.remove();
  }
});

test('container(name) twice: the same cgroup, no second mkdir or write', () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS);
    const first = cgroups.container('app', APP);
    const mkdirs = machine.fs.mkdirs.length;
    const writes = machine.fs.writes.length;
    const before = machine.snapshot();
    const again = cgroups.container('app', LOG);
    assert.is(again, first);
    assert.is(machine.fs.mkdirs.length, mkdirs);
    assert.is(machine.fs.writes.length, writes);
    assert.equal(changes(before, machine.snapshot()), {});
    assert.is(machine.read(`${MEMORY_BASE}/pod1/app/memory.limit_in_bytes`), '134217728');
  } finally {
    machine.remove();
  }
});

// ---------------------------------------------------------------------------
// --cgroup-parent

test('--cgroup-parent: the same path in every hierarchy; destroy removes only what this pod made of it', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    // The memory hierarchy already has /custom; the others have nothing.
    mkdirSync(`${machine.root}/sys/fs/cgroup/memory/custom`);
    const initial = machine.snapshot();
    const options = { parent: '/custom/pods', pidsLimit: 10 };
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, options);
    assert.equal(cgroups.pause.procs, [
      `${machine.root}/sys/fs/cgroup/memory/custom/pods/pod1/_pause/cgroup.procs`,
      `${machine.root}/sys/fs/cgroup/cpu/custom/pods/pod1/_pause/cgroup.procs`,
      `${machine.root}/sys/fs/cgroup/pids/custom/pods/pod1/_pause/cgroup.procs`,
      `${machine.root}/sys/fs/cgroup/cpuacct/custom/pods/pod1/_pause/cgroup.procs`,
    ]);
    assert.is(machine.read('/sys/fs/cgroup/pids/custom/pods/pod1/pids.max'), '10');
    // Not under the own cgroup in memory's hierarchy.
    assert.not.ok(machine.exists(`/sys/fs/cgroup/memory${MEMORY_PATH}/minipod`));

    await cgroups.destroy(() => assert.unreachable('no process to kill'));
    // /custom of memory was there before: kept; everything else is gone.
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('--cgroup-parent that exists: destroy keeps it', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    for (const h of ['memory', 'cpu', 'cpuacct', 'pids']) mkdirSync(`${machine.root}/sys/fs/cgroup/${h}/custom/pods`, { recursive: true });
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, { parent: '/custom/pods', pidsLimit: 10 });
    cgroups.container('app', APP);
    await cgroups.destroy(() => assert.unreachable('no process to kill'));
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('--cgroup-parent made by the first pod: kept while a second pod is in it, removed when its maker goes last', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const initial = machine.snapshot();
    const options = { parent: '/custom', pidsLimit: 10 };
    const first = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, options);
    const second = createPodCgroups(machine.fs, hybridLayout(), 'pod2', NO_LIMITS, options);
    await second.destroy(() => assert.unreachable());
    assert.ok(machine.exists('/sys/fs/cgroup/cpu/custom/pod1'));
    assert.not.ok(machine.exists('/sys/fs/cgroup/cpu/custom/pod2'));
    await first.destroy(() => assert.unreachable());
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

// ---------------------------------------------------------------------------
// oomKills and stats

test('oomKills: oom_kill of memory.events (v2) and memory.oom_control (v1); 0 without the file', () => {
  const v2 = new FakeMachine(v2Layout(), V2_DELEGATED);
  const v1 = new FakeMachine(hybridLayout());
  try {
    const a = createPodCgroups(v2.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS).container('app', APP);
    assert.is(a.oomKills(), 0);
    v2.file(`${V2_BASE}/pod1/app/memory.events`, 'low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n');
    assert.is(a.oomKills(), 2);
    // oom_group_kill (Linux 6.0) is another key.
    v2.file(`${V2_BASE}/pod1/app/memory.events`, 'low 0\nhigh 0\nmax 9\noom 7\noom_kill 6\noom_group_kill 1\n');
    assert.is(a.oomKills(), 6);

    const b = createPodCgroups(v1.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS).container('app', APP);
    assert.is(b.oomKills(), 0);
    v1.file(`${MEMORY_BASE}/pod1/app/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    assert.is(b.oomKills(), 3);
    // Kernels before 4.13 have no oom_kill line.
    v1.file(`${MEMORY_BASE}/pod1/app/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\n');
    assert.is(b.oomKills(), 0);
  } finally {
    v2.remove();
    v1.remove();
  }
});

test('stats v2: memory.current, memory.peak, cpu.stat usage_usec, pids.current', () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const app = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS).container('app', APP);
    assert.equal(app.stats(), { memoryBytes: null, memoryPeakBytes: null, cpuSeconds: null, pids: null });
    const dir = `${V2_BASE}/pod1/app`;
    machine.file(`${dir}/memory.current`, '1048576\n');
    machine.file(`${dir}/memory.peak`, '2097152\n');
    machine.file(`${dir}/cpu.stat`, 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 0\n');
    machine.file(`${dir}/pids.current`, '3\n');
    assert.equal(app.stats(), { memoryBytes: 1048576, memoryPeakBytes: 2097152, cpuSeconds: 1.5, pids: 3 });
    // memory.peak is Linux 5.19; 'max' is no number.
    rmSync(`${machine.root}${dir}/memory.peak`);
    machine.file(`${dir}/memory.current`, 'max\n');
    assert.equal(app.stats(), { memoryBytes: null, memoryPeakBytes: null, cpuSeconds: 1.5, pids: 3 });
  } finally {
    machine.remove();
  }
});

test('stats v1: memory.usage_in_bytes, memory.max_usage_in_bytes, cpuacct.usage in ns, pids.current', () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const app = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS).container('app', APP);
    assert.equal(app.stats(), { memoryBytes: null, memoryPeakBytes: null, cpuSeconds: null, pids: null });
    machine.file(`${MEMORY_BASE}/pod1/app/memory.usage_in_bytes`, '4096\n');
    machine.file(`${MEMORY_BASE}/pod1/app/memory.max_usage_in_bytes`, '8192\n');
    machine.file(`${CPUACCT_BASE}/pod1/app/cpuacct.usage`, '250000000\n');
    machine.file(`${PIDS_BASE}/pod1/app/pids.current`, '1\n');
    // v1's cpu.stat has throttling counts, no usage: it is not read.
    machine.file(`${CPU_BASE}/pod1/app/cpu.stat`, 'nr_periods 4\nnr_throttled 1\nthrottled_time 5\nusage_usec 99\n');
    assert.equal(app.stats(), { memoryBytes: 4096, memoryPeakBytes: 8192, cpuSeconds: 0.25, pids: 1 });
  } finally {
    machine.remove();
  }
});

// ---------------------------------------------------------------------------
// destroy

test('destroy v1: kills each pid listed in the leaves once, removes every directory, the base last', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', podResources([APP], []), OPTIONS);
    cgroups.container('app', APP);
    cgroups.container('side', BARE);
    // Each process is in every hierarchy.
    for (const base of [MEMORY_BASE, CPU_BASE, CPUACCT_BASE, PIDS_BASE]) {
      machine.enter(`${base}/pod1/_pause`, 100);
      machine.enter(`${base}/pod1/app`, 101, 102);
      machine.enter(`${base}/pod1/side`, 103);
    }
    const killed: number[] = [];
    await cgroups.destroy((pid) => {
      killed.push(pid);
      machine.exit(pid);
    });
    assert.equal(killed, [100, 101, 102, 103]);
    assert.equal(changes(initial, machine.snapshot()), {});
    // Per hierarchy the leaves, then the pod; the shared bases at the end.
    const pods = [MEMORY_BASE, CPU_BASE, PIDS_BASE, CPUACCT_BASE];
    assert.equal(machine.fs.rmdirs, [
      ...pods.flatMap((base) => [`${base}/pod1/_pause`, `${base}/pod1/app`, `${base}/pod1/side`, `${base}/pod1`]),
      ...pods,
    ]);
  } finally {
    machine.remove();
  }
});

test('destroy: processes slow to exit are killed again until their cgroup empties', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS);
    for (const base of [MEMORY_BASE, CPU_BASE, CPUACCT_BASE, PIDS_BASE]) machine.enter(`${base}/pod1/_pause`, 7);
    const killed: number[] = [];
    await cgroups.destroy((pid) => {
      killed.push(pid);
      if (killed.length === 1) setTimeout(() => machine.exit(pid), 60);
    });
    assert.ok(killed.length >= 2, `killed ${killed.length} time(s)`);
    assert.ok(killed.every((pid) => pid === 7));
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('destroy v2: writes 1 to the pod cgroup.kill when the kernel has it, kills nothing by pid', async () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS);
    cgroups.container('app', APP);
    machine.file(`${V2_BASE}/pod1/cgroup.kill`, ''); // Linux 5.14: every non-root cgroup has one
    machine.enter(`${V2_BASE}/pod1/_pause`, 100);
    machine.enter(`${V2_BASE}/pod1/app`, 101, 102);
    await cgroups.destroy((pid) => assert.unreachable(`kill(${pid})`));
    assert.equal(machine.fs.writes.filter(([path]) => path.endsWith('/cgroup.kill')), [[`${V2_BASE}/pod1/cgroup.kill`, '1']]);
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('destroy v2 without cgroup.kill: kills each pid listed', async () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS);
    cgroups.container('app', APP);
    machine.enter(`${V2_BASE}/pod1/_pause`, 100);
    machine.enter(`${V2_BASE}/pod1/app`, 101, 102);
    const killed: number[] = [];
    await cgroups.destroy((pid) => {
      killed.push(pid);
      machine.exit(pid);
    });
    assert.equal(killed, [100, 101, 102]);
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('destroy: the shared base stays while another pod is in it; the last pod removes it', async () => {
  for (const [name, layout, files, bases] of [
    ['v2', v2Layout, V2_DELEGATED, [V2_BASE]],
    ['v1', hybridLayout, {}, [MEMORY_BASE, CPU_BASE, CPUACCT_BASE, PIDS_BASE]],
  ] as const) {
    const machine = new FakeMachine(layout(), files);
    try {
      const initial = machine.snapshot();
      const pod1 = createPodCgroups(machine.fs, layout(), 'pod1', NO_LIMITS, OPTIONS);
      const pod2 = createPodCgroups(machine.fs, layout(), 'pod2', NO_LIMITS, OPTIONS);
      pod1.container('app', APP);
      pod2.container('app', APP);
      const withBoth = machine.snapshot();
      await pod1.destroy(() => assert.unreachable());
      for (const base of bases) {
        assert.not.ok(machine.exists(`${base}/pod1`), `${name}: ${base}/pod1 removed`);
        assert.ok(machine.exists(`${base}/pod2/app`), `${name}: ${base}/pod2 kept`);
      }
      // Nothing of pod2 touched.
      const gone = changes(withBoth, machine.snapshot());
      assert.ok(Object.entries(gone).every(([path, text]) => text === null && path.includes('/pod1')), `${name}: ${JSON.stringify(gone)}`);
      // A pod made after the other's teardown still finds its base.
      await pod2.destroy(() => assert.unreachable());
      assert.equal(changes(initial, machine.snapshot()), {}, name);
      const pod3 = createPodCgroups(machine.fs, layout(), 'pod3', NO_LIMITS, OPTIONS);
      for (const base of bases) assert.ok(machine.exists(`${base}/pod3/_pause`), `${name}: ${base}/pod3`);
      await pod3.destroy(() => assert.unreachable());
      assert.equal(changes(initial, machine.snapshot()), {}, name);
    } finally {
      machine.remove();
    }
  }
});

test('destroy: a cgroup that never empties fails after 5 s, naming it', async () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    const cgroups = createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS);
    machine.enter(`${V2_BASE}/pod1/_pause`, 100);
    const killed: number[] = [];
    const started = Date.now();
    const err = await rejects(cgroups.destroy((pid) => killed.push(pid)), /still has processes/);
    assert.instance(err, MinipodError);
    assert.is(err.message, `cgroup ${V2_BASE}/pod1/_pause still has processes after 5000 ms`);
    assert.ok(Date.now() - started >= 5000);
    assert.ok(killed.length > 1 && killed.every((pid) => pid === 100));
    // Nothing removed: the pod is still there for a later attempt.
    assert.ok(machine.exists(`${V2_BASE}/pod1/_pause`));
  } finally {
    machine.remove();
  }
});

// ---------------------------------------------------------------------------
// Failures while creating

test('a pod-level limit the kernel refuses: everything made is removed again, the error thrown', () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const initial = machine.snapshot();
    machine.fs.refuse(`${PIDS_BASE}/pod1/pids.max`);
    const message = minipodError(() => createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS));
    assert.is(message, `write "1024" to ${PIDS_BASE}/pod1/pids.max: EINVAL`);
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test('a failure while creating leaves another pod and the shared base alone', () => {
  const machine = new FakeMachine(v2Layout(), V2_DELEGATED);
  try {
    createPodCgroups(machine.fs, v2Layout(), 'pod1', NO_LIMITS, OPTIONS);
    const withPod1 = machine.snapshot();
    machine.fs.refuse(`${V2_BASE}/pod2/cpu.weight`);
    assert.throws(() => createPodCgroups(machine.fs, v2Layout(), 'pod2', NO_LIMITS, OPTIONS), /cpu\.weight: EINVAL/);
    // pod1 intact; the base's subtree_control written again with the same text.
    assert.equal(changes(withPod1, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

// Regression: a container whose limit the kernel refuses (on v1 it refuses
// e.g. a cfs_quota_us above the parent's, or a memory limit below the usage)
// has its directories made already; destroy() must still list it among the
// leaves, or rmdir of the pod cgroup fails (EBUSY) and the pod's cgroups leak.
test('a container limit the kernel refuses: destroy() still removes everything', async () => {
  const machine = new FakeMachine(hybridLayout());
  try {
    const initial = machine.snapshot();
    const cgroups = createPodCgroups(machine.fs, hybridLayout(), 'pod1', NO_LIMITS, OPTIONS);
    machine.fs.refuse(`${MEMORY_BASE}/pod1/app/memory.limit_in_bytes`);
    assert.throws(() => cgroups.container('app', APP), /memory\.limit_in_bytes: EINVAL/);
    await cgroups.destroy(() => assert.unreachable());
    assert.equal(changes(initial, machine.snapshot()), {});
  } finally {
    machine.remove();
  }
});

test.run();
