import { constants } from 'node:os';

// Starting processes is the one thing besides libc that differs between Node
// and Deno. Both spawners fork on the calling thread, synchronously: that is
// what lets the runtime switch this thread into a namespace, spawn, and
// switch back (namespaces are per thread).

export interface ExitStatus {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  /** Signal number, or null. */
  signal: number | null;
}

export interface SpawnRequest {
  path: string;
  args: string[];
  env: Record<string, string>;
  /**
   * 'pipe' gives the caller stdout and stderr; 'ignore' connects them to
   * /dev/null; 'inherit' passes the runtime's own. Deno opens /dev/null
   * itself, on the calling thread, in whatever mount namespace it is in.
   */
  output: 'pipe' | 'ignore' | 'inherit';
  /**
   * The runtime's own stdin (exec -i); 'empty': a pipe with no writer,
   * nothing to read and no path looked up, for a spawn in a mount namespace
   * a container may have changed (a FIFO at /dev/null there would hold the
   * runtime); else /dev/null.
   */
  stdin?: 'inherit' | 'empty';
}

export interface Child {
  readonly pid: number;
  readonly stdout: AsyncIterable<Uint8Array> | null;
  readonly stderr: AsyncIterable<Uint8Array> | null;
  readonly exited: Promise<ExitStatus>;
}

export interface Spawner {
  /** Forks now, on this thread; throws if the program could not be started. */
  spawn(request: SpawnRequest): Child;
}

/** Both runtimes report a signal by name; the rest of minipod uses numbers. */
export function signalNumber(name: string | null): number | null {
  return name === null ? null : ((constants.signals as Record<string, number>)[name] ?? null);
}

/** The shell's convention, which kubelet and docker follow too. */
export function exitCodeOf(status: ExitStatus): number {
  return status.signal !== null ? 128 + status.signal : (status.code ?? 0);
}
