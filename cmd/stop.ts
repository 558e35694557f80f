import { setTimeout as sleep } from 'node:timers/promises';
import { request } from '../lib/daemon/client.ts';
import { MinipodError } from '../lib/errors.ts';
import { isAlive } from '../lib/state/process-ref.ts';
import { isFinished } from '../lib/state/record.ts';
import { findPod, listPods } from '../lib/state/store.ts';
import type { Globals } from './globals.ts';
import { seconds } from './options.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Stops a pod as its deletion in Kubernetes does: SIGTERM to its containers
(sidecars last), its grace period (terminationGracePeriodSeconds, or --grace
for a detached pod), then SIGKILL. Returns once it has stopped. A pod run in
the foreground is stopped through its 'minipod run' (SIGTERM), with that
run's grace period (--grace is refused for it: a signal cannot carry one).`;
export const usage = 'minipod [--root DIR] stop [--grace SECONDS] POD';
export const options = { grace: { type: 'string' } } as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, ...extra] = positionals;
  if (!ref || extra.length) throw new MinipodError(`usage: ${usage}`);
  const graceSeconds = seconds(values.grace, 'grace');
  const pod = findPod(globals.root, ref);
  if (isFinished(pod.phase)) return 0;
  if (!isAlive(pod.supervisor)) throw new MinipodError(`pod "${pod.name}" has lost its supervisor (pid ${pod.supervisor.pid}): run minipod gc`);
  if (pod.detached) {
    try {
      await request(globals.root, { op: 'stop', id: pod.id, graceSeconds }, globals.self);
    } catch (err) {
      // It may have ended between the read above and the request (its
      // supervisor then no longer runs it): stopped is what was asked.
      const now = listPods(globals.root).find((p) => p.id === pod.id);
      if (now && !isFinished(now.phase)) throw err;
    }
    return 0;
  }
  if (graceSeconds !== undefined) {
    throw new MinipodError(`--grace: pod "${pod.name}" runs in the foreground (minipod run, pid ${pod.supervisor.pid}), which stops it with its own grace period: stop it without --grace, or start it with run --grace`);
  }
  process.kill(pod.supervisor.pid, 'SIGTERM');
  // Its `minipod run` removes the pod when it is done.
  while (listPods(globals.root).some((p) => p.id === pod.id) && isAlive(pod.supervisor)) await sleep(20);
  return 0;
}
