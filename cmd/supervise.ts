import { openContext } from '../lib/context.ts';
import { serve } from '../lib/daemon/server.ts';
import { EPERM } from '../lib/sys/errno.ts';
import { openHost } from '../lib/sys/host.ts';
import { SyscallError } from '../lib/sys/libc.ts';
import type { Globals } from './globals.ts';
import { planFromFile } from './manifest.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `The shared supervisor of detached pods: started by 'minipod run -d' when
none runs for the state root, it runs every detached pod of that root and
exits when the last one has ended. Not for direct use.`;
export const usage = 'minipod [--root DIR] supervise';
export const options = {} as const;

export async function run(_args: VerbArgs, globals: Globals): Promise<number> {
  const host = await openHost();
  try {
    host.libc.setsid(); // its own session: no terminal's hangup reaches it
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === EPERM)) throw err; // already a session leader (spawned detached)
  }
  const ctx = openContext(host, globals.files);
  try {
    await serve(ctx, globals.root, (file, images, name) => planFromFile(file, images, { name, quiet: true }));
    return 0;
  } finally {
    ctx.close();
  }
}
