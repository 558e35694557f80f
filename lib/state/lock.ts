import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinipodError } from '../errors.ts';
import { LOCK_EX, LOCK_NB, O_CLOEXEC, O_CREAT, O_RDWR } from '../sys/constants.ts';
import { EWOULDBLOCK } from '../sys/errno.ts';
import { type Libc, SyscallError } from '../sys/libc.ts';

/**
 * One CLI call at a time changes the set of pods under a state root (a name
 * taken, a directory removed): flock(2) on `<root>/lock`, which the kernel
 * releases when its holder dies, so a killed holder leaves nothing to take
 * over. The file goes when the holder is done (no empty lock file left in a
 * state root); a waiter that locked a file already gone tries again on the
 * path's new one, so two never hold it at once.
 */
export async function withLock<T>(libc: Libc, root: string, fn: () => Promise<T> | T, waitMs = 10_000): Promise<T> {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const file = join(root, 'lock');
  const fd = await acquire(libc, file, waitMs);
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true }); // while still holding it: see above
    libc.close(fd);
  }
}

async function acquire(libc: Libc, file: string, waitMs: number): Promise<number> {
  for (const end = Date.now() + waitMs; ;) {
    const fd = lockOpened(libc, libc.open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600), file);
    if (fd !== null) return fd;
    if (Date.now() > end) throw new MinipodError(`${file}: held by another minipod for more than ${waitMs} ms`);
    await sleep(10);
  }
}

/**
 * `fd`, opened on `path`, locked without waiting: `fd` when the lock is taken
 * and `path` still names the file locked (its holder may have removed it
 * between open and flock), else null and `fd` closed.
 */
export function lockOpened(libc: Libc, fd: number, path: string): number | null {
  try {
    libc.flock(fd, LOCK_EX | LOCK_NB, path);
    if (statSync(`/proc/self/fd/${fd}`).ino === statSync(path, { throwIfNoEntry: false })?.ino) return fd;
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === EWOULDBLOCK)) {
      libc.close(fd);
      throw err;
    }
  }
  libc.close(fd);
  return null;
}
