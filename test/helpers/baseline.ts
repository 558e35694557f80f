import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../lib/cgroup/detect.ts';

// What a test that touches the kernel must leave as it found: the mount
// table, the process table, the cgroup trees, and its state root.

interface Snapshot {
  mountinfo: string[];
  pids: Set<number>;
  cgroups: string[];
}

/** minipod's default subtree root in each hierarchy this machine has: `<own cgroup>/minipod`. */
export function minipodCgroupRoots(): string[] {
  const layout = detectCgroups(
    readFileSync('/proc/self/mountinfo', 'utf8'),
    readFileSync('/proc/self/cgroup', 'utf8'),
    (dir) => (existsSync(`${dir}/cgroup.controllers`) ? readFileSync(`${dir}/cgroup.controllers`, 'utf8') : null),
  );
  const roots = Object.values(layout.controllers).flatMap((h) => (h ? [join(h.mount, h.path, 'minipod')] : []));
  return [...new Set(roots)];
}

/** Every cgroup below minipod's subtree roots, deepest first. */
function cgroupsOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  return [...children.flatMap(cgroupsOf), dir];
}

/** Every cgroup directory below minipod's subtree roots, sorted. */
export const minipodCgroups = () => minipodCgroupRoots().flatMap(cgroupsOf).sort();

/**
 * For a test that kills minipod with SIGKILL, which then cannot remove its
 * cgroups (minipod gc, later, will): once their processes are gone, remove
 * them, deepest first.
 */
export async function removeLeftoverCgroups(): Promise<void> {
  const roots = minipodCgroupRoots();
  for (let i = 0; i < 100; i++) {
    const left = roots.flatMap(cgroupsOf).filter((dir) => {
      try {
        rmdirSync(dir);
        return false;
      } catch {
        return true;
      }
    });
    if (!left.length) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function pids(): Set<number> {
  return new Set(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number));
}

function stat(pid: number | 'self') {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  const [state, ppid, , session] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { comm, state, ppid, session };
}

const ourSession = stat('self').session;

/** Whether `pid` descends from this test process (walking parents up). */
function descendsFromUs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === process.pid) return true;
    p = Number(stat(p).ppid);
  }
  return false;
}

/**
 * A process this test run started: a descendant of ours, or an orphan
 * re-parented to init that kept our session (pods' processes never call
 * setsid). Other work on the machine, even in our session (a shell around
 * the suite, another suite, a benchmark), is not ours to judge.
 */
function describeOurs(pid: number): string | null {
  try {
    const { comm, state, ppid, session } = stat(pid);
    if (session !== ourSession) return null;
    if (ppid !== '1' && !descendsFromUs(pid)) return null;
    return `${pid} ${comm} (state ${state}, parent ${ppid})`;
  } catch {
    return null; // gone meanwhile
  }
}

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ').slice(3, 6).join(' '));

export function snapshot(): Snapshot {
  return { mountinfo: mountinfo(), pids: pids(), cgroups: minipodCgroups() };
}

/**
 * Fails with what was left behind. New processes get a moment to finish
 * exiting (a reaped child disappears a little after minipod returns).
 */
export async function assertBaseline(before: Snapshot, stateRoot: string): Promise<void> {
  let leftover: string[] = [];
  // Up to 5 s: orphans of a killed minipod are reaped by the machine's init,
  // which may take its time.
  for (let i = 0; i < 100; i++) {
    leftover = [...pids()].filter((p) => !before.pids.has(p)).map(describeOurs).filter((d): d is string => d !== null);
    if (!leftover.length) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(leftover, [], `processes left behind: ${leftover.join('; ')}`);
  const now = mountinfo();
  assert.equal(now, before.mountinfo, 'the mount table changed');
  assert.equal(minipodCgroups(), before.cgroups, 'cgroups left behind');
  let entries: string[] = [];
  try {
    entries = readdirSync(stateRoot);
  } catch {
    // never created: nothing left either
  }
  assert.equal(entries, [], `state left in ${stateRoot}`);
}
