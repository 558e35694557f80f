import { existsSync } from 'node:fs';
import { MinipodError } from './errors.ts';
import { ThreadNamespaces } from './ns/thread.ts';
import { O_CLOEXEC, O_RDONLY } from './sys/constants.ts';
import type { Host } from './sys/host.ts';

/** Where `make` put the two binaries that run inside pods. */
export interface RuntimeFiles {
  pause: string;
  init: string;
}

/** What every step of starting a pod shares: the host, the saved thread namespaces, the exec helper. */
export interface RuntimeContext {
  readonly host: Host;
  readonly threads: ThreadNamespaces;
  readonly files: RuntimeFiles;
  /**
   * The exec helper as `/proc/<runtime pid>/fd/<n>`: a descriptor opened
   * here, on the host, so that a child can exec it after pivot_root although
   * the file itself is nowhere in the container's tree.
   */
  readonly initExec: string;
  /** A path through which a child can open one of the runtime's descriptors. */
  fdPath(fd: number): string;
  close(): void;
}

export function openContext(host: Host, files: RuntimeFiles): RuntimeContext {
  for (const [what, path] of Object.entries(files)) {
    if (!existsSync(path)) throw new MinipodError(`${what} binary not found at ${path}: run make`);
  }
  const { libc } = host;
  const threads = ThreadNamespaces.save(libc);
  let initFd: number;
  try {
    initFd = libc.open(files.init, O_RDONLY | O_CLOEXEC);
  } catch (err) {
    threads.close();
    throw err;
  }
  const fdPath = (fd: number) => `/proc/${host.pid}/fd/${fd}`;
  return {
    host,
    threads,
    files,
    initExec: fdPath(initFd),
    fdPath,
    close() {
      libc.close(initFd);
      threads.close();
    },
  };
}
