// A pod's cgroups, laid out as the kubelet lays them out: one cgroup for the
// pod, one child per container and one for the pause, on every hierarchy the
// controllers minipod uses live in (one on cgroup v2; up to four on v1). The
// subtree root is `<own cgroup>/minipod` per hierarchy (or --cgroup-parent):
// nothing is ever created or written outside it, and only processes minipod
// starts ever enter it, each by itself before it execs (see minipod-init -c).
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinipodError } from '../errors.ts';
import type { CgroupLayout, Controller, Hierarchy } from './detect.ts';
import type { CgroupFs } from './fs.ts';
import { CPU_PERIOD_US, type ContainerResources, milliCpuToQuota, milliCpuToShares, sharesToWeight } from './limits.ts';

export interface CgroupOptions {
  /** --cgroup-parent: the subtree root instead of `<own cgroup>/minipod`, the same path on every hierarchy. */
  parent?: string;
  /** pids.max of the pod (--pids-limit). */
  pidsLimit: number;
}

export interface CgroupStats {
  memoryBytes: number | null;
  memoryPeakBytes: number | null;
  cpuSeconds: number | null;
  pids: number | null;
}

export interface ContainerCgroup {
  /** The cgroup.procs files (one per hierarchy, host paths) a process writes itself into to join. */
  readonly procs: readonly string[];
  /** The kernel's count of OOM kills in this cgroup so far. */
  oomKills(): number;
  stats(): CgroupStats;
}

export interface PodCgroups {
  /** The pod's cgroup in each hierarchy (what gc removes when the supervisor is gone). */
  readonly dirs: readonly string[];
  readonly pause: ContainerCgroup;
  /** The container's cgroup with its limits; the same one again for a restart. */
  container(name: string, resources: ContainerResources): ContainerCgroup;
  /** Kill what is left in the pod's cgroups, then remove every directory minipod made. */
  destroy(kill: (pid: number) => void): Promise<void>;
}

/** The controllers minipod needs; cpuacct (v1 only) is for accounting and optional. */
const NEEDED: readonly Controller[] = ['memory', 'cpu', 'pids'];

/** The pause's cgroup: '_' cannot start a container name (a DNS-1123 label), so no container clashes with it. */
const PAUSE = '_pause';

interface Tree {
  hierarchy: Hierarchy;
  controllers: Controller[];
  /** minipod's subtree root in this hierarchy, mount-relative. */
  base: string;
}

/**
 * Create the pod's cgroup, with the pod-level limits (`pod`: the kubelet's
 * sums), and return what the runtime needs of it. `record` hears of the
 * pod's cgroup directories before any is made, so that a record of them
 * exists for gc whenever this process dies.
 */
export function createPodCgroups(
  fs: CgroupFs, layout: CgroupLayout, podId: string, pod: ContainerResources, options: CgroupOptions,
  record: (dirs: readonly string[]) => void = () => {},
): PodCgroups {
  const trees = treesOf(layout, options);
  const dirs = trees.map((tree) => fs.hostPath(abs(tree, podId)));
  record(dirs);
  const marked = options.parent !== undefined;
  const made: string[] = [];
  const mk = (path: string) => {
    if (fs.mkdir(path)) made.push(path);
  };
  /** Children of the pod cgroup, named before they are made, so that teardown finds a half-made one too. */
  const children = new Set<string>();
  const child = (name: string, resources: ContainerResources | null): ContainerCgroup => {
    children.add(name);
    for (const tree of trees) {
      const dir = abs(tree, `${podId}/${name}`);
      mk(dir);
      if (resources) writeLimits(fs, tree, dir, resources);
    }
    return containerCgroup(fs, trees, `${podId}/${name}`);
  };
  let pause: ContainerCgroup;
  try {
    for (const tree of trees) {
      // The last pod out of a shared root removes it: if that happens
      // between making the root and making the pod in it, make both again.
      for (let attempt = 1; ; attempt++) {
        prepareBase(fs, tree, marked);
        try {
          mk(abs(tree, podId));
          break;
        } catch (err) {
          if (attempt === 3 || fs.exists(baseDir(tree))) throw err;
        }
      }
      if (tree.hierarchy.version === 2) enableControllers(fs, tree, abs(tree, podId));
      writeLimits(fs, tree, abs(tree, podId), pod);
      if (tree.controllers.includes('pids')) fs.write(`${abs(tree, podId)}/pids.max`, String(options.pidsLimit));
    }
    pause = child(PAUSE, null);
  } catch (err) {
    for (const path of made.reverse()) fs.rmdir(path);
    for (const tree of trees) releaseBase(fs, tree, marked);
    throw err;
  }
  const containers = new Map<string, ContainerCgroup>();
  return {
    dirs,
    pause,
    container(name, resources) {
      let cgroup = containers.get(name);
      if (!cgroup) containers.set(name, (cgroup = child(name, resources)));
      return cgroup;
    },
    destroy: (kill) => destroy(fs, trees, podId, [...children], kill, marked),
  };
}

function treesOf(layout: CgroupLayout, options: CgroupOptions): Tree[] {
  const missing = NEEDED.filter((c) => !layout.controllers[c]);
  if (missing.length) {
    throw new MinipodError(`cgroup controller${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not mounted on this machine (minipod needs memory, cpu and pids)`);
  }
  const trees = new Map<string, Tree>();
  for (const controller of [...NEEDED, 'cpuacct'] as const) {
    const hierarchy = layout.controllers[controller];
    if (!hierarchy) continue;
    const tree = trees.get(hierarchy.mount);
    if (tree) tree.controllers.push(controller);
    else {
      const base = options.parent ?? join(hierarchy.path, 'minipod');
      trees.set(hierarchy.mount, { hierarchy, controllers: [controller], base });
    }
  }
  return [...trees.values()];
}

const join = (a: string, b: string) => `${a.replace(/\/+$/, '')}/${b}`;
/** minipod's subtree root as a path: the mount itself for --cgroup-parent /. */
const baseDir = (tree: Tree) => (tree.base === '/' ? tree.hierarchy.mount : `${tree.hierarchy.mount}${tree.base}`);
const abs = (tree: Tree, rel: string) => join(baseDir(tree), rel);

/** Marks a directory of --cgroup-parent that minipod made: a child cgroup (no file can be put in a cgroup), for the last pod out to find. */
const MADE_BY_MINIPOD = '_minipod';

/**
 * The subtree root, made if missing. On v2 a cgroup's children get only the
 * controllers its parent has in cgroup.subtree_control: the cgroup above
 * minipod's subtree is not minipod's to write, so what it lacks is named
 * there, for the user to delegate; the levels minipod makes pass them on.
 * Levels of --cgroup-parent that minipod makes are marked as such.
 */
function prepareBase(fs: CgroupFs, tree: Tree, marked: boolean): void {
  const { mount, version } = tree.hierarchy;
  const base = baseDir(tree);
  const missing: string[] = [];
  for (let dir = base; dir !== mount && !fs.exists(dir); dir = dirname(dir)) missing.unshift(dir);
  // The root cgroup has every controller: nothing to be delegated.
  if (version === 2 && base !== mount) {
    const parentFile = `${dirname(missing[0] ?? base)}/cgroup.subtree_control`;
    const enabled = (fs.read(parentFile) ?? '').split(/\s+/);
    const lacking = tree.controllers.filter((c) => c !== 'cpuacct' && !enabled.includes(c));
    if (lacking.length) {
      throw new MinipodError(
        `cgroup v2: ${lacking.join(', ')} not delegated to ${base}: ${parentFile} enables only "${enabled.join(' ').trim()}". ` +
          `Enable them there (echo "${lacking.map((c) => `+${c}`).join(' ')}" > ${parentFile}; a cgroup with processes of its own cannot), ` +
          `or give --cgroup-parent a cgroup whose parent does (as root on systemd: --cgroup-parent /minipod, under the root cgroup, which enables them)`,
      );
    }
  }
  for (const dir of missing) {
    // Another pod may make it at the same moment: then it is that one's to mark.
    if (!fs.mkdir(dir)) continue;
    if (marked) fs.mkdir(`${dir}/${MADE_BY_MINIPOD}`);
    if (version === 2 && dir !== base) enableControllers(fs, tree, dir);
  }
  if (version === 2) enableControllers(fs, tree, base);
}

/**
 * Remove the subtree root if no pod uses it any more: `<own>/minipod`
 * always, --cgroup-parent level by level upwards as long as minipod made
 * the level (its mark is there) and nothing else is in it.
 */
function releaseBase(fs: CgroupFs, tree: Tree, marked: boolean): void {
  if (marked) releaseMarked(fs, baseDir(tree));
  else fs.rmdir(baseDir(tree)); // refused (EBUSY) while another pod is in it: that one removes it
}

/** `dir` and the levels above it, as long as minipod made them (their mark is there) and nothing else is in them. */
export function releaseMarked(fs: CgroupFs, dir: string): void {
  for (; ; dir = dirname(dir)) {
    const mark = `${dir}/${MADE_BY_MINIPOD}`;
    if (!fs.exists(mark) || fs.subdirectories(dir).some((name) => name !== MADE_BY_MINIPOD)) return;
    fs.rmdir(mark);
    if (fs.rmdir(dir) !== null) {
      fs.mkdir(mark); // a pod came in meanwhile: the mark stays for the last one out
      return;
    }
  }
}

function enableControllers(fs: CgroupFs, tree: Tree, dir: string): void {
  const wanted = tree.controllers.filter((c) => c !== 'cpuacct');
  fs.write(`${dir}/cgroup.subtree_control`, wanted.map((c) => `+${c}`).join(' '));
}

/** Kubernetes' conversions (see limits.ts); a limit not set is the kernel's default: none. */
function writeLimits(fs: CgroupFs, tree: Tree, dir: string, r: ContainerResources): void {
  const v2 = tree.hierarchy.version === 2;
  const has = (c: Controller) => tree.controllers.includes(c);
  if (has('memory') && r.memoryLimit !== null) fs.write(`${dir}/${v2 ? 'memory.max' : 'memory.limit_in_bytes'}`, String(r.memoryLimit));
  if (!has('cpu')) return;
  const shares = milliCpuToShares(r.cpuRequestMilli ?? 0n);
  if (v2) {
    fs.write(`${dir}/cpu.weight`, String(sharesToWeight(shares)));
    if (r.cpuLimitMilli !== null) fs.write(`${dir}/cpu.max`, `${milliCpuToQuota(r.cpuLimitMilli)} ${CPU_PERIOD_US}`);
  } else {
    fs.write(`${dir}/cpu.shares`, String(shares));
    if (r.cpuLimitMilli !== null) {
      fs.write(`${dir}/cpu.cfs_period_us`, String(CPU_PERIOD_US));
      fs.write(`${dir}/cpu.cfs_quota_us`, String(milliCpuToQuota(r.cpuLimitMilli)));
    }
  }
}

/** `key value` lines (memory.events, memory.oom_control, cpu.stat): the value of `key`. */
function field(text: string | null, key: string): number | null {
  const line = text?.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? null : Number(line.slice(key.length + 1));
}

function number(text: string | null): number | null {
  return text === null || text.trim() === '' || text.trim() === 'max' ? null : Number(text.trim());
}

function containerCgroup(fs: CgroupFs, trees: Tree[], rel: string): ContainerCgroup {
  const dirOf = (c: Controller) => {
    const tree = trees.find((t) => t.controllers.includes(c));
    return tree ? { dir: abs(tree, rel), v2: tree.hierarchy.version === 2 } : null;
  };
  const memory = dirOf('memory')!;
  const cpu = dirOf('cpu')!;
  const pids = dirOf('pids')!;
  const cpuacct = dirOf('cpuacct');
  return {
    procs: trees.map((t) => fs.hostPath(`${abs(t, rel)}/cgroup.procs`)),
    oomKills() {
      return field(fs.read(`${memory.dir}/${memory.v2 ? 'memory.events' : 'memory.oom_control'}`), 'oom_kill') ?? 0;
    },
    stats() {
      const read = (file: string) => number(fs.read(file));
      const usageUsec = cpu.v2 ? field(fs.read(`${cpu.dir}/cpu.stat`), 'usage_usec') : null;
      const usageNs = !cpu.v2 && cpuacct ? read(`${cpuacct.dir}/cpuacct.usage`) : null;
      return {
        memoryBytes: read(`${memory.dir}/${memory.v2 ? 'memory.current' : 'memory.usage_in_bytes'}`),
        memoryPeakBytes: read(`${memory.dir}/${memory.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'}`),
        cpuSeconds: usageUsec !== null ? usageUsec / 1e6 : usageNs !== null ? usageNs / 1e9 : null,
        pids: read(`${pids.dir}/pids.current`),
      };
    },
  };
}

/** How long a cgroup may take to empty once its processes are killed (their exit and reaping). */
const EMPTY_WITHIN_MS = 5000;

async function destroy(fs: CgroupFs, trees: Tree[], podId: string, children: string[], kill: (pid: number) => void, marked: boolean): Promise<void> {
  const deadline = Date.now() + EMPTY_WITHIN_MS;
  for (const tree of trees) {
    const pod = abs(tree, podId);
    const leaves = children.map((name) => `${pod}/${name}`);
    for (;;) {
      // cgroup.kill (v2, Linux 5.14) kills the whole subtree at once; else each process, by pid: all are ours.
      if (fs.exists(`${pod}/cgroup.kill`)) fs.write(`${pod}/cgroup.kill`, '1');
      else for (const leaf of leaves) for (const pid of procsOf(fs, leaf)) kill(pid);
      const busy = leaves.filter((leaf) => fs.rmdir(leaf) !== null);
      if (busy.length === 0) break;
      if (Date.now() > deadline) throw new MinipodError(`cgroup ${busy[0]} still has processes after ${EMPTY_WITHIN_MS} ms`);
      await sleep(20);
    }
    const left = fs.rmdir(pod);
    if (left) throw new MinipodError(`remove cgroup ${pod}: ${left}`);
  }
  for (const tree of trees) releaseBase(fs, tree, marked);
}

function procsOf(fs: CgroupFs, dir: string): number[] {
  return (fs.read(`${dir}/cgroup.procs`) ?? '').split('\n').filter(Boolean).map(Number);
}
