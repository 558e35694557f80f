import { MinipodError } from '../lib/errors.ts';
import { isLost } from '../lib/state/cleanup.ts';
import { isAlive } from '../lib/state/process-ref.ts';
import { isFinished, type PodRecord } from '../lib/state/record.ts';
import { listPods } from '../lib/state/store.ts';
import { columns, duration } from '../lib/status/table.ts';
import type { Globals } from './globals.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Lists the pods under the state root, as 'kubectl get pods' does, with their
ids: running ones, or with -a finished ones too (until 'minipod rm'). A pod
whose supervisor is gone shows as Unknown ('minipod gc' cleans it up). With
--containers, one row per container, and first, for each pod, its sandbox:
the pause, which 'kubectl get pods' hides and 'docker ps' shows as k8s_POD_.`;
export const usage = 'minipod [--root DIR] ps [-a] [--containers] [-o json]';
export const options = {
  all: { type: 'boolean', short: 'a' },
  containers: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const;

/** The phase as the user should see it: Unknown when nothing supervises a pod that has not finished, as kubectl shows a lost node's pods. */
export function shownPhase(pod: PodRecord): string {
  return isLost(pod) ? 'Unknown' : pod.phase;
}

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  if (positionals.length) throw new MinipodError(`usage: ${usage}`);
  if (values.output !== undefined && values.output !== 'json') {
    throw new MinipodError(`--output: Unsupported value: ${JSON.stringify(values.output)}: supported values: "json"`);
  }
  const pods = listPods(globals.root).filter((p) => values.all || !isFinished(p.phase));
  if (values.output === 'json') {
    process.stdout.write(`${JSON.stringify(pods.map((p) => ({ ...p, phase: shownPhase(p) })), null, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  const age = (p: PodRecord) => duration((p.finishedAt ?? now) - p.createdAt);
  const rows = values.containers
    ? [['POD', 'CONTAINER', 'STATE', 'PID', 'RESTARTS', 'AGE'], ...pods.flatMap((p) => [
      [p.name, 'POD', shownPhase(p) === 'Running' || shownPhase(p) === 'Pending' ? 'running' : 'exited', String(p.pause && isAlive(p.pause) ? p.pause.pid : ''), '0', age(p)],
      ...[...p.initContainers, ...p.containers].map((c) => [
        p.name, c.kind === 'app' ? c.name : `${c.name} (${c.kind})`, c.state, String(c.process && isAlive(c.process) ? c.process.pid : ''), String(c.restarts), age(p),
      ]),
    ])]
    : [['NAME', 'ID', 'STATUS', 'READY', 'RESTARTS', 'AGE'], ...pods.map((p) => [
      p.name, p.id, shownPhase(p), `${p.containers.filter((c) => c.state === 'running').length}/${p.containers.length}`,
      String([...p.initContainers, ...p.containers].reduce((n, c) => n + c.restarts, 0)), age(p),
    ])];
  process.stdout.write(`${columns(rows).join('\n')}\n`);
  return 0;
}
