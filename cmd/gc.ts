import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { answers } from '../lib/daemon/client.ts';
import { socketPath } from '../lib/daemon/protocol.ts';
import { MinipodError } from '../lib/errors.ts';
import { cleanUp, isLost } from '../lib/state/cleanup.ts';
import { withLock } from '../lib/state/lock.ts';
import { listPods, unrecordedPodDirs } from '../lib/state/store.ts';
import { openHost } from '../lib/sys/host.ts';
import type { Globals } from './globals.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Finds pods whose supervisor is gone while they ran (it was killed, it
crashed, the machine rebooted) and removes what they left: their processes,
cgroups and state; their logs too with --logs. Prints the id of each pod it
cleaned up. Finished pods are left for 'minipod rm'.`;
export const usage = 'minipod [--root DIR] gc [--logs]';
export const options = { logs: { type: 'boolean' } } as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  if (positionals.length) throw new MinipodError(`usage: ${usage}`);
  const host = await openHost();
  await withLock(host.libc, globals.root, async () => {
    for (const pod of listPods(globals.root).filter(isLost)) {
      await cleanUp(host.libc, globals.root, pod, { logs: values.logs === true });
      process.stdout.write(`${pod.id}\n`);
    }
    // A supervisor killed after it made a pod's directory and before the pod's first record: nothing ran yet, only the directory is there.
    for (const dir of unrecordedPodDirs(globals.root)) rmSync(dir, { recursive: true, force: true });
    // A supervisor killed leaves its socket, and an empty log when it had nothing to say.
    if (!(await answers(socketPath(globals.root)))) {
      rmSync(socketPath(globals.root), { force: true });
      const log = join(globals.root, 'supervisor.log');
      if (statSync(log, { throwIfNoEntry: false })?.size === 0) rmSync(log);
    }
  });
  return 0;
}
