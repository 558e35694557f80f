// What a pod whose supervisor is gone (killed, crashed, the machine
// rebooted) leaves behind, and its removal: its processes (by pid and start
// time, so that no reused pid is hit), its cgroups, its state, and its logs
// if asked. Its mounts lived only in its own mount namespaces, which went
// with its processes.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupFs } from '../cgroup/fs.ts';
import { releaseMarked } from '../cgroup/pod-cgroups.ts';
import { MinipodError } from '../errors.ts';
import type { Libc } from '../sys/libc.ts';
import { SIGKILL } from '../sys/constants.ts';
import { isAlive } from './process-ref.ts';
import type { PodRecord } from './record.ts';
import { removeLogs } from './store.ts';

/** Whether the pod's supervisor is gone while the pod had not finished. */
export function isLost(pod: PodRecord): boolean {
  return pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && !isAlive(pod.supervisor);
}

export async function cleanUp(libc: Libc, root: string, pod: PodRecord, opts: { logs: boolean }): Promise<void> {
  const refs = [pod.pause, ...[...pod.initContainers, ...pod.containers].map((c) => c.process)].filter((r) => r !== null);
  const kill = (pid: number) => {
    try {
      libc.kill(pid, SIGKILL);
    } catch {
      // gone meanwhile
    }
  };
  for (const ref of refs) if (isAlive(ref)) kill(ref.pid);
  for (const dir of pod.cgroups) await removeCgroup(dir, kill);
  const fs = new CgroupFs();
  for (const dir of pod.cgroups) {
    // `<own>/minipod` if no other pod is in it; levels of --cgroup-parent only if minipod made them.
    const parent = dirname(dir);
    if (basename(parent) === 'minipod') fs.rmdir(parent);
    else releaseMarked(fs, parent);
  }
  rmSync(join(root, pod.id), { recursive: true, force: true });
  if (opts.logs) removeLogs(root, pod.logDir);
}

/** A cgroup and its children, deepest first, once whatever is in them (all the pod's) is killed. */
async function removeCgroup(dir: string, kill: (pid: number) => void): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeCgroup(join(dir, entry.name), kill);
  }
  for (let i = 0; ; i++) {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) kill(Number(pid));
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if (i === 100) throw new MinipodError(`remove cgroup ${dir}: ${(err as NodeJS.ErrnoException).code}`);
      await sleep(20);
    }
  }
}
