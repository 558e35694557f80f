import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MinipodError } from './errors.ts';
import { ThreadNamespaces } from './ns/thread.ts';
import { F_ADD_SEALS, F_SEAL_ALL, MFD_ALLOW_SEALING, MFD_CLOEXEC } from './sys/constants.ts';
import type { Libc } from './sys/libc.ts';
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
  /** The pause, likewise: a sealed copy, run as `/proc/<runtime pid>/fd/<n>`. */
  readonly pauseExec: string;
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
  const fds: number[] = [];
  try {
    fds.push(sealedCopy(libc, files.init), sealedCopy(libc, files.pause));
  } catch (err) {
    for (const fd of fds) libc.close(fd);
    threads.close();
    throw err;
  }
  const fdPath = (fd: number) => `/proc/${host.pid}/fd/${fd}`;
  return {
    host,
    threads,
    files,
    initExec: fdPath(fds[0]!),
    pauseExec: fdPath(fds[1]!),
    fdPath,
    close() {
      for (const fd of fds) libc.close(fd);
      threads.close();
    },
  };
}

/**
 * A binary the runtime runs inside pods, as a sealed in-memory copy
 * (memfd, no more writes, no resizing, seals sealed), as runc runs itself
 * since CVE-2019-5736: a container that reaches /proc/PID/exe of the pause or
 * of the exec helper reaches that copy, which nobody can write, never the file in build/.
 */
function sealedCopy(libc: Libc, path: string): number {
  const fd = libc.memfdCreate(basename(path), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  try {
    const data = readFileSync(path);
    for (let done = 0; done < data.length;) done += libc.write(fd, data.subarray(done));
    libc.fcntl(fd, F_ADD_SEALS, F_SEAL_ALL);
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}
