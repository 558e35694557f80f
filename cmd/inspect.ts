import { readlinkSync } from 'node:fs';
import { MinipodError } from '../lib/errors.ts';
import { isAlive } from '../lib/state/process-ref.ts';
import type { ContainerRecord, ProcessRef } from '../lib/state/record.ts';
import { containerLogDir, containerLogFile, findPod } from '../lib/state/store.ts';
import { columns } from '../lib/status/table.ts';
import type { Globals } from './globals.ts';
import { shownPhase } from './ps.ts';
import { oneOf } from './options.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Prints a pod's state as JSON: its manifest, status, the pause's and the
containers' pids, cgroups, each container's log directory and current log
file (logDir, logPath), and its namespaces: for the pause and each running
container, the inode of each namespace, and whether it is the pause's
(shared, the pod) or its own. --format table prints just that table: the pod
model, made visible.`;
export const usage = 'minipod [--root DIR] inspect [--format json|table] POD';
export const options = { format: { type: 'string' } } as const;

const KINDS = ['net', 'ipc', 'uts', 'pid', 'mnt', 'cgroup', 'user'] as const;

function namespaces(ref: ProcessRef | null): Record<string, string> | null {
  if (!ref || !isAlive(ref)) return null;
  try {
    return Object.fromEntries(KINDS.map((kind) => [kind, readlinkSync(`/proc/${ref.pid}/ns/${kind}`).replace(/^\w+:\[(\d+)\]$/, '$1')]));
  } catch {
    return null; // gone meanwhile
  }
}

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, ...extra] = positionals;
  if (!ref || extra.length) throw new MinipodError(`usage: ${usage}`);
  const format = oneOf(values.format, 'format', ['json', 'table']);
  const pod = findPod(globals.root, ref);
  const pause = namespaces(pod.pause);
  const rows = [
    { name: 'POD (pause)', pid: pod.pause?.pid ?? null, ns: pause },
    ...[...pod.initContainers, ...pod.containers].map((c) => ({ name: c.name, pid: c.process?.pid ?? null, ns: namespaces(c.process) })),
  ].filter((row) => row.ns !== null);
  const table = rows.map(({ name, pid, ns }) => ({
    name,
    pid,
    namespaces: Object.fromEntries(KINDS.map((kind) => [kind, { inode: ns![kind]!, shared: name !== 'POD (pause)' && ns![kind] === pause?.[kind] }])),
  }));
  if (format === 'table') {
    // Namespaces live only as long as a process in them: a finished pod has none to show.
    if (table.length === 0) {
      process.stderr.write(`minipod: pod "${pod.name}" is ${shownPhase(pod)}: no process of it runs, so it has no namespaces to show\n`);
      return 0;
    }
    const cell = (n: { inode: string; shared: boolean }) => (n.shared ? `${n.inode} shared` : n.inode);
    const lines = columns([
      ['CONTAINER', 'PID', ...KINDS.map((k) => k.toUpperCase())],
      ...table.map((t) => [t.name, String(t.pid), ...KINDS.map((k) => cell(t.namespaces[k]!))]),
    ]);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  // Per container, as the CRI names them: its log directory and its current run's file (what `logs` prints).
  const withLogs = (c: ContainerRecord) => ({ ...c, logDir: containerLogDir(pod.logDir, c.name), logPath: containerLogFile(pod.logDir, c.name, c.restarts) });
  const shown = { ...pod, phase: shownPhase(pod), initContainers: pod.initContainers.map(withLogs), containers: pod.containers.map(withLogs), namespaces: table };
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  return 0;
}
