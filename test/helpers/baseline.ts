import { readdirSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';

// What a test that touches the kernel must leave as it found: the mount
// table, the process table, and its state root.

interface Snapshot {
  mountinfo: string[];
  pids: Set<number>;
}

function pids(): Set<number> {
  return new Set(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number));
}

function describe(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Kernel threads (children of kthreadd) come and go on their own.
    if (ppid === '2' || pid === 2) return null;
    return `${pid} ${comm} (state ${state}, parent ${ppid})`;
  } catch {
    return null; // gone meanwhile
  }
}

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ').slice(3, 6).join(' '));

export function snapshot(): Snapshot {
  return { mountinfo: mountinfo(), pids: pids() };
}

/**
 * Fails with what was left behind. New processes get a moment to finish
 * exiting (a reaped child disappears a little after minipod returns).
 */
export async function assertBaseline(before: Snapshot, stateRoot: string): Promise<void> {
  let leftover: string[] = [];
  for (let i = 0; i < 20; i++) {
    leftover = [...pids()].filter((p) => !before.pids.has(p)).map(describe).filter((d): d is string => d !== null);
    if (!leftover.length) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(leftover, [], `processes left behind: ${leftover.join('; ')}`);
  const now = mountinfo();
  assert.equal(now, before.mountinfo, 'the mount table changed');
  let entries: string[] = [];
  try {
    entries = readdirSync(stateRoot);
  } catch {
    // never created: nothing left either
  }
  assert.equal(entries, [], `state left in ${stateRoot}`);
}
