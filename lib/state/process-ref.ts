import { readFileSync } from 'node:fs';
import type { ProcessRef } from './record.ts';

/** Field 22 of /proc/PID/stat, or null when the process is gone: exited (a zombie waiting to be reaped counts as gone) or never there. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

export function processRef(pid: number): ProcessRef {
  return { pid, startTime: startTime(pid) ?? '' };
}

/** Whether the process a ref names still runs (not merely its pid, reused since). */
export function isAlive(ref: ProcessRef | null): boolean {
  return ref !== null && startTime(ref.pid) === ref.startTime;
}
