import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where one run of a container keeps what it writes: an overlay's upper and work directories, and its mount point. */
export interface ContainerLayer {
  upper: string;
  work: string;
  merged: string;
}

/**
 * A pod's directory under the state root (`--root`): its state file, the
 * mount point of its /dev/shm, its emptyDir volumes and its containers'
 * writable layers. Removed, whole, at teardown.
 */
export class PodDir {
  readonly shm: string;
  readonly volumes: string;
  /** Where the pause mounts its empty root. */
  readonly pauseRoot: string;
  private readonly runs = new Map<string, number>();
  private constructor(readonly path: string) {
    this.shm = join(path, 'shm');
    this.volumes = join(path, 'volumes');
    this.pauseRoot = join(path, 'pause-root');
  }

  /**
   * A fresh, empty layer for the next run of a container: as in
   * Kubernetes, a restarted container starts again from its image. The
   * previous run's layer goes (a process it left behind may still hold it:
   * then it goes with the pod).
   */
  containerLayer(name: string): ContainerLayer {
    const run = this.runs.get(name) ?? 0;
    this.runs.set(name, run + 1);
    if (run > 0) {
      try {
        rmSync(join(this.path, 'containers', `${name}.${run - 1}`), { recursive: true, force: true });
      } catch {
        // removed with the pod
      }
    }
    const base = join(this.path, 'containers', `${name}.${run}`);
    const layer = { upper: join(base, 'upper'), work: join(base, 'work'), merged: join(base, 'rootfs') };
    for (const dir of Object.values(layer)) mkdirSync(dir, { recursive: true, mode: 0o755 });
    return layer;
  }

  static create(root: string, id: string): PodDir {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const dir = new PodDir(join(root, id));
    mkdirSync(dir.path, { mode: 0o700 }); // fails if the id is taken: never share a pod's directory
    mkdirSync(dir.shm, { mode: 0o700 });
    mkdirSync(dir.pauseRoot, { mode: 0o700 });
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

  /** All but the state: what a finished pod no longer needs. */
  removeRuntime(): void {
    for (const part of [this.shm, this.volumes, this.pauseRoot, join(this.path, 'containers')]) rmSync(part, { recursive: true, force: true });
  }
}
