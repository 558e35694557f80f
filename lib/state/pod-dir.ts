import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A pod's directory under the state root (`--root`): its state file and the
 * mount point of its /dev/shm. Removed, whole, at teardown.
 */
export class PodDir {
  readonly shm: string;
  private constructor(readonly path: string) {
    this.shm = join(path, 'shm');
  }

  static create(root: string, id: string): PodDir {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const dir = new PodDir(join(root, id));
    mkdirSync(dir.path, { mode: 0o700 }); // fails if the id is taken: never share a pod's directory
    mkdirSync(dir.shm, { mode: 0o700 });
    return dir;
  }

  /** Atomically: a reader sees the old state or the new one, never half of it. */
  writeState(state: unknown): void {
    const tmp = join(this.path, '.state.json.tmp');
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, join(this.path, 'state.json'));
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
