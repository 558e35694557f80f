import { Libc } from './libc.ts';
import type { Spawner } from './process.ts';

/** What the runtime needs from the machine: libc, a spawner, and who it is. */
export interface Host {
  readonly runtime: 'node' | 'deno';
  readonly libc: Libc;
  readonly spawner: Spawner;
  /** This process's PID as the host PID namespace sees it. */
  readonly pid: number;
}

export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/** Checked once: Deno gets Deno's FFI and Deno.Command, Node gets koffi and child_process. */
export async function openHost(): Promise<Host> {
  if (isDeno) {
    const [{ denoLibc }, { denoSpawner }] = await Promise.all([import('./deno-backend.ts'), import('./spawn-deno.ts')]);
    return { runtime: 'deno', libc: new Libc(denoLibc()), spawner: denoSpawner, pid: process.pid };
  }
  const [{ koffiLibc }, { nodeSpawner }] = await Promise.all([import('./koffi-backend.ts'), import('./spawn-node.ts')]);
  const libc = new Libc(koffiLibc());
  return { runtime: 'node', libc, spawner: nodeSpawner(libc), pid: process.pid };
}
