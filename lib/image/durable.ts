// Writes that survive a crash whole or not at all: data fsynced before the
// rename that publishes it, the directory fsynced after, so the new name
// itself is on disk (ext4 and xfs order neither for us).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write `data` to a new file at `path` (which must not exist) and fsync it. */
export function writeSynced(path: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace `path` with `data` atomically: a reader sees the old file or the
 * new one; on disk too after a crash unless `durable` is false, for what
 * means nothing once the machine is down (a pod's lease).
 */
export function replaceFile(path: string, data: string | Uint8Array, durable = true): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`);
  try {
    if (durable) writeSynced(tmp, data);
    else writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) syncPath(dirname(path));
}
