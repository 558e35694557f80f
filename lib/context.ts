import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MinipodError } from './errors.ts';
import { ThreadNamespaces } from './ns/thread.ts';
import { F_ADD_SEALS, F_SEAL_ALL, F_SETFD, FD_CLOEXEC, MFD_ALLOW_SEALING, MFD_CLOEXEC } from './sys/constants.ts';
import type { Libc } from './sys/libc.ts';
import type { Host } from './sys/host.ts';
import type { Child, SpawnRequest } from './sys/process.ts';

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
   * The exec helper's sealed copy as `/proc/self/fd/<n>`: resolved by the
   * child at exec, in whatever procfs it sees at /proc then, and naming the
   * descriptor it holds until the exec succeeds. So the child needs a
   * procfs in which it is visible, and nothing of the host's tree.
   */
  readonly initExec: string;
  /** The pause's sealed copy (a descriptor the pause's helper inherits). */
  readonly pauseFd: number;
  /**
   * Start the exec helper with `inherit` open in it under the same numbers
   * (its -s, -c, -T name them): closed on exec for every other child.
   */
  spawnHelper(request: Omit<SpawnRequest, 'path'>, inherit: readonly number[]): Child;
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
  const initExec = `/proc/self/fd/${fds[0]!}`;
  return {
    host,
    threads,
    files,
    initExec,
    pauseFd: fds[1]!,
    spawnHelper(request, inherit) {
      // Only this thread forks, and only here while the flags are off: no other child gets these.
      for (const fd of inherit) libc.fcntl(fd, F_SETFD, 0);
      try {
        return host.spawner.spawn({ path: initExec, ...request });
      } finally {
        for (const fd of inherit) libc.fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    },
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
