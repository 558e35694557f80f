import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError } from '../errors.ts';
import { isAlive, processRef } from './process-ref.ts';
import type { ProcessRef } from './record.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One CLI call at a time changes the set of pods under a state root (a name
 * taken, a directory removed): an O_EXCL lock file holding its owner, taken
 * over when that owner is gone (killed while holding it).
 */
export async function withLock<T>(root: string, fn: () => Promise<T> | T, waitMs = 10_000): Promise<T> {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const file = join(root, 'lock');
  const me = processRef(process.pid);
  for (const end = Date.now() + waitMs; ;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = owner(file);
    if (holder && !isAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > end) throw new MinipodError(`${file}: held by pid ${holder?.pid ?? '?'} for more than ${waitMs} ms`);
    await sleep(10);
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** null while the file is being written (or gone): its owner is then taken to be alive. */
function owner(file: string): ProcessRef | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProcessRef;
  } catch {
    return null;
  }
}
