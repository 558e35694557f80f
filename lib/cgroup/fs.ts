// The cgroup filesystem as minipod touches it, under a root prefix: '' on a
// real machine, a temporary directory holding a fake tree in unit tests
// (cgroupfs is plain files and directories to read and write, which a temp
// directory imitates well enough for everything but the kernel's reactions).
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { wrapError } from '../errors.ts';

export class CgroupFs {
  constructor(readonly root = '') {}

  private at(path: string): string {
    return `${this.root}${path}`;
  }

  exists(path: string): boolean {
    return statSync(this.at(path), { throwIfNoEntry: false }) !== undefined;
  }

  /** The names of the child cgroups. */
  subdirectories(path: string): string[] {
    return readdirSync(this.at(path), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** false when it was already there. */
  mkdir(path: string): boolean {
    try {
      mkdirSync(this.at(path), { mode: 0o755 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw wrapError(`create cgroup ${path}`, err);
    }
  }

  /** The kernel refuses (EBUSY) while a process or a child cgroup is in it; the code is returned for the caller to decide. */
  rmdir(path: string): string | null {
    try {
      rmdirSync(this.at(path));
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      return code === 'ENOENT' ? null : code;
    }
  }

  write(path: string, text: string): void {
    try {
      writeFileSync(this.at(path), text);
    } catch (err) {
      throw wrapError(`write ${JSON.stringify(text)} to ${path}`, err);
    }
  }

  /** null when the file is not there (an older kernel, another version). */
  read(path: string): string | null {
    try {
      return readFileSync(this.at(path), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw wrapError(`read ${path}`, err);
    }
  }

  /** Where a process must open a file of ours: the real path, prefix included. */
  hostPath(path: string): string {
    return this.at(path);
  }
}
