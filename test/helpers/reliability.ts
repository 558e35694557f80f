// What tests of detached pods (test/integration/detached.test.ts, the
// reliability suite in test/reliability/) need beyond the integration
// helpers: a look at processes, their sessions and descriptors (the shared
// supervisor runs in a session of its own, which the baseline's process
// check does not see), the cleanup of a detached test whatever happened,
// and a seeded PRNG for the fault tests.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { PodRecord } from '../../lib/state/record.ts';
import { listPods } from '../../lib/state/store.ts';
import type { Scratch } from './cli.ts';
import { waitFor } from './cli.ts';

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
export const BUSYBOX_ROOTFS = join(repo, 'images/busybox/rootfs');

/** mulberry32: a small seeded PRNG, the same sequence for the same seed on Node and Deno. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** MINIPOD_FAULT_SEED replays a run; otherwise a fresh seed, which a failure prints. */
export function faultSeed(): number {
  const given = process.env.MINIPOD_FAULT_SEED;
  if (given !== undefined && given !== '') {
    if (!/^\d+$/.test(given)) throw new Error(`MINIPOD_FAULT_SEED must be a non-negative integer, not ${JSON.stringify(given)}`);
    return Number(given) >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32);
}

// --- processes ---------------------------------------------------------------

export interface Stat {
  comm: string;
  state: string;
  ppid: number;
  session: number;
}

export function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid, , session] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), state: state!, ppid: Number(ppid), session: Number(session) };
  } catch {
    return null;
  }
}

/** Exists and is not a zombie. */
export function running(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** The running children of `parent`. */
export function childrenOf(parent: number): number[] {
  return allPids().filter((pid) => stat(pid)?.ppid === parent && running(pid));
}

/** The shared supervisors of `root`: `minipod --root ROOT supervise`. */
export function supervisorPids(root: string): number[] {
  return allPids().filter((pid) => cmdline(pid).includes(`--root ${root} supervise`) && running(pid));
}

/** The one shared supervisor of `root`, once it runs. */
export function theSupervisor(root: string): Promise<number> {
  return waitFor(() => {
    const pids = supervisorPids(root);
    return pids.length === 1 ? pids[0] : undefined;
  }, `one shared supervisor of ${root} (found: ${supervisorPids(root).join(', ') || 'none'})`, 5000);
}

export async function supervisorExits(root: string, ms = 3000): Promise<void> {
  await waitFor(() => (supervisorPids(root).length === 0 ? true : undefined), `the shared supervisor of ${root} to exit (still: ${supervisorPids(root).join(', ')})`, ms);
}

/** A process's open descriptors: number -> what it leads to. */
export function descriptors(pid: number): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      fds.set(fd, readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return fds;
}

/** What `after` has open that `before` did not, or has no more: for a message. */
export function descriptorDiff(before: Map<string, string>, after: Map<string, string>): string {
  const added = [...after].filter(([fd, to]) => before.get(fd) !== to).map(([fd, to]) => `+${fd} -> ${to}`);
  const gone = [...before].filter(([fd, to]) => after.get(fd) !== to).map(([fd, to]) => `-${fd} -> ${to}`);
  return [...added, ...gone].join(', ');
}

/**
 * The pods' processes a test saw, and the sessions of the supervisors it
 * saw: what must be gone at its end. Pauses and containers of detached pods
 * run in the supervisor's session, not ours.
 */
export class Seen {
  readonly pids = new Set<number>();
  readonly sessions = new Set<number>();

  pod(record: PodRecord): void {
    for (const ref of [record.pause, ...[...record.initContainers, ...record.containers].map((c) => c.process)]) {
      if (ref) this.pids.add(ref.pid);
    }
  }

  process(pid: number): void {
    this.pids.add(pid);
  }

  supervisor(pid: number): void {
    this.pids.add(pid);
    const s = stat(pid);
    if (s) this.sessions.add(s.session);
  }

  leftovers(): string[] {
    const left = new Set([...this.pids].filter(running));
    for (const pid of allPids()) {
      const s = stat(pid);
      if (s && this.sessions.has(s.session) && running(pid)) left.add(pid);
    }
    return [...left].map((pid) => `${pid} (${cmdline(pid) || stat(pid)?.comm || '?'})`);
  }

  async assertNoneLeft(ms = 3000): Promise<void> {
    const left = await waitFor(() => (this.leftovers().length ? undefined : []), 'the pods\' processes to end', ms).catch(() => this.leftovers());
    if (left.length) throw new Error(`processes left behind: ${left.join('; ')}`);
  }

  /** Whatever happened: remove every pod (rm -f), kill what still runs of ours, gc. Never throws. */
  async removeAll(scratch: Scratch): Promise<void> {
    try {
      for (const p of listPods(scratch.root)) {
        this.pod(p);
        await scratch.minipod(['rm', '-f', p.id]);
      }
      await supervisorExits(scratch.root).catch(async () => {
        for (const pid of supervisorPids(scratch.root)) process.kill(pid, 'SIGKILL');
        await sleep(100);
      });
      for (const pid of this.pids) if (running(pid)) process.kill(pid, 'SIGKILL');
      if (listPods(scratch.root).length) await scratch.minipod(['gc', '--logs']);
    } catch (err) {
      console.error(`  cleaning up ${scratch.root}: ${(err as Error).message}`);
    }
  }
}

/**
 * A test of detached pods: `fn`, then the shared supervisor must exit by
 * itself and nothing of the pods be left; whatever happened, what is left
 * is then removed (Seen.removeAll), so one failure does not spill into the
 * next test.
 */
export async function withSeen(scratch: Scratch, fn: (seen: Seen) => Promise<void>, leftMs = 3000): Promise<void> {
  const seen = new Seen();
  let failure: unknown = null;
  try {
    await fn(seen);
    await supervisorExits(scratch.root);
    await seen.assertNoneLeft(leftMs);
  } catch (err) {
    failure = err;
  }
  await seen.removeAll(scratch);
  if (failure) throw failure;
}

/** The state root's entries, sorted (or none: never made). */
export function stateRootEntries(root: string): string[] {
  return existsSync(root) ? readdirSync(root).sort() : [];
}

/** A copy of the busybox rootfs at `dir` (hard links would share inodes with the image: a copy cannot harm it). */
export async function busyboxCopy(dir: string): Promise<string> {
  await execa('cp', ['-a', BUSYBOX_ROOTFS, dir]);
  return dir;
}
