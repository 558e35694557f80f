import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinipodError } from '../lib/errors.ts';
import { followLogFile, formatLine, readLogFile, tail } from '../lib/logs/cri.ts';
import { isAlive } from '../lib/state/process-ref.ts';
import { isFinished, type PodRecord } from '../lib/state/record.ts';
import { containerLogFile, findPod, listPods } from '../lib/state/store.ts';
import type { Globals } from './globals.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Prints what a container wrote, as 'kubectl logs' does: stdout and stderr
lines in the order written, without prefix. The files are in the CRI log
format the kubelet writes, one per run of the container, under
<root>/logs/<namespace>_<name>_<uid>/<container>/<restart>.log. -f follows,
across restarts, until the container ends for good; --previous prints the
run before the current one; --tail N the last N lines; --timestamps puts the
time of each line first. CONTAINER may be left out when the pod has one.`;
export const usage = 'minipod [--root DIR] logs [-f] [--previous] [--tail N] [--timestamps] POD [CONTAINER]';
export const options = {
  follow: { type: 'boolean', short: 'f' },
  previous: { type: 'boolean', short: 'p' },
  tail: { type: 'string' },
  timestamps: { type: 'boolean' },
} as const;

function container(pod: PodRecord, name: string | undefined) {
  const all = [...pod.initContainers, ...pod.containers];
  if (name === undefined) {
    if (pod.containers.length === 1 && pod.initContainers.length === 0) return pod.containers[0]!;
    throw new MinipodError(`a container name must be specified for pod ${pod.name}, choose one of: [${all.map((c) => c.name).join(' ')}]`);
  }
  const found = all.find((c) => c.name === name);
  if (!found) throw new MinipodError(`container ${name} is not valid for pod ${pod.name}`);
  return found;
}

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, name, ...extra] = positionals;
  if (!ref || extra.length) throw new MinipodError(`usage: ${usage}`);
  const lines = values.tail === undefined ? -1 : Number(values.tail);
  if (!Number.isInteger(lines) || String(values.tail).trim() === '') {
    throw new MinipodError(`--tail: Invalid value: ${JSON.stringify(values.tail)}: must be an integer`);
  }
  const pod = findPod(globals.root, ref);
  const c = container(pod, name);
  const run = values.previous ? c.restarts - 1 : c.restarts;
  if (run < 0) throw new MinipodError(`previous terminated container "${c.name}" in pod "${pod.name}" not found`);
  const print = (line: Parameters<typeof formatLine>[0]) => process.stdout.write(`${formatLine(line, values.timestamps === true)}\n`);
  const file = (n: number) => containerLogFile(pod.logDir, c.name, n);
  const existing = existsSync(file(run)) ? readLogFile(file(run)) : { lines: [], bytes: 0 };
  for (const line of tail(existing.lines, lines)) print(line);
  if (!values.follow || values.previous) return 0;
  // Follow this run, then each next one, until the container ends for good.
  for (let n = run; ; n++) {
    const follower = followLogFile(file(n), n === run ? existing.bytes : 0, print);
    for (;;) {
      await sleep(100);
      const now = listPods(globals.root).find((p) => p.id === pod.id);
      const state = now && [...now.initContainers, ...now.containers].find((x) => x.name === c.name);
      const over = !now || !state || isFinished(now.phase) || !isAlive(now.supervisor);
      if (over || state.restarts > n) {
        await sleep(150); // the last lines, written as the run ended
        follower.stop();
        if (over) return 0;
        break;
      }
    }
  }
}
