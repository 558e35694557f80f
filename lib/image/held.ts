// Work in progress in the store (a download in ingest/, an unpack in
// snapshots/.tmp-*) is marked by an flock(2) its writer holds on it: the
// kernel drops the lock when the writer dies, however it dies, so anything
// there that nobody holds is a leftover, and removing it can never pull a
// file from under a live writer. No clock, no pid files.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockOpened } from '../state/lock.ts';
import { O_CLOEXEC, O_RDONLY } from '../sys/constants.ts';
import { ENOENT } from '../sys/errno.ts';
import { type Libc, SyscallError } from '../sys/libc.ts';

/**
 * An fd holding `path` (a file or a directory) locked, or null when another
 * process holds it or it is gone. The path must still name the file locked:
 * a sweeper may have removed it between open and flock.
 */
export function tryHold(libc: Libc, path: string): number | null {
  let fd: number;
  try {
    fd = libc.open(path, O_RDONLY | O_CLOEXEC);
  } catch (err) {
    if (err instanceof SyscallError && err.errno === ENOENT) return null;
    throw err;
  }
  return lockOpened(libc, fd, path);
}

/**
 * Make a new entry at a fresh random name under `dir` with `make` (which
 * must fail if the name exists) and hold it: its path and the fd to close
 * when the work is done (renamed into place or removed).
 */
export function createHeld(libc: Libc, dir: string, prefix: string, make: (path: string) => void): { path: string; fd: number } {
  for (;;) {
    const path = join(dir, `${prefix}${randomBytes(8).toString('hex')}`);
    make(path);
    const fd = tryHold(libc, path);
    // null: a sweeper took it in the instant between make and flock; it removes it.
    if (fd !== null) return { path, fd };
  }
}

/**
 * Remove every entry of `dir` that `matches` and that no live writer holds;
 * `remove` runs while the lock is held. Returns the names removed.
 */
export function sweepUnheld(libc: Libc, dir: string, matches: (name: string) => boolean, remove: (path: string) => void): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const name of names.filter(matches)) {
    const path = join(dir, name);
    const fd = tryHold(libc, path);
    if (fd === null) continue;
    try {
      remove(path);
      removed.push(name);
    } finally {
      libc.close(fd);
    }
  }
  return removed;
}
