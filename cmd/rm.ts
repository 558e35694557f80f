import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError } from '../lib/errors.ts';
import { cleanUp, isLost } from '../lib/state/cleanup.ts';
import { withLock } from '../lib/state/lock.ts';
import { isFinished } from '../lib/state/record.ts';
import { findPod, listPods, removeLogs } from '../lib/state/store.ts';
import { openHost } from '../lib/sys/host.ts';
import type { Globals } from './globals.ts';
import { run as stop } from './stop.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Removes a finished pod: its state and its logs. A pod still running is
refused, unless -f, which stops it first (as 'minipod stop' does); a pod
whose supervisor is gone is cleaned up as 'minipod gc' does.`;
export const usage = 'minipod [--root DIR] rm [-f] POD';
export const options = { force: { type: 'boolean', short: 'f' } } as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, ...extra] = positionals;
  if (!ref || extra.length) throw new MinipodError(`usage: ${usage}`);
  let pod = findPod(globals.root, ref);
  if (!isFinished(pod.phase) && !isLost(pod)) {
    if (!values.force) throw new MinipodError(`pod "${pod.name}" is ${pod.phase}: stop it first, or use rm -f`);
    await stop({ values: {}, positionals: [pod.id] }, globals);
    const after = listPods(globals.root).find((p) => p.id === pod.id);
    if (!after) {
      // A pod of `minipod run` is removed by it once stopped.
      process.stdout.write(`${pod.id}\n`);
      return 0;
    }
    pod = after;
  }
  const host = await openHost();
  await withLock(host.libc, globals.root, async () => {
    // A lost pod's processes and cgroups go too; its state and logs in either case.
    if (isLost(pod)) {
      await cleanUp(host.libc, globals.root, pod, { logs: true });
    } else {
      rmSync(join(globals.root, pod.id), { recursive: true, force: true });
      removeLogs(globals.root, pod.logDir);
    }
  });
  process.stdout.write(`${pod.id}\n`);
  return 0;
}
