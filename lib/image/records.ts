// The store's metadata files: repositories.json (which names point at which
// image, and the images left without a name), the leases pods hold on the
// images they use, and the holds of pulls and loads in progress. Each file
// is replaced whole (temporary name, fsync, rename) and changed only under
// the store lock, so readers never see half of one.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';
import type { Libc } from '../sys/libc.ts';
import { isDigest } from './digest.ts';
import { replaceFile } from './durable.ts';
import { createHeld, tryHold } from './held.ts';

export interface NameRecord {
  manifestDigest: string;
  /** The index the manifest was chosen from, when the name pointed at one. */
  indexDigest?: string;
  /** `linux/amd64`, from the image config. */
  platform: string;
}

export interface DanglingRecord {
  manifestDigest: string;
  platform: string;
}

export interface Repositories {
  /** Canonical names (`docker.io/library/redis:7-alpine`, `name@sha256:...`) to images. */
  names: Record<string, NameRecord>;
  /** Images no name points at (docker's `<none>:<none>`): a name moved away from them, or they were loaded untagged. */
  dangling: DanglingRecord[];
}

export function readRepositories(dir: string): Repositories {
  const file = join(dir, 'repositories.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { names: {}, dangling: [] };
    throw wrapError(file, err);
  }
  const bad = (what: string) => new MinipodError(`${file}: ${what}`);
  if (!isObject(parsed) || !isObject(parsed.names) || !Array.isArray(parsed.dangling)) throw bad('must hold "names" and "dangling"');
  const names: Record<string, NameRecord> = {};
  for (const [name, value] of Object.entries(parsed.names)) {
    if (!isImageEntry(value) || (value.indexDigest !== undefined && !isDigest(value.indexDigest as string))) {
      throw bad(`names["${name}"] is not an image record`);
    }
    names[name] = {
      manifestDigest: value.manifestDigest as string,
      ...(value.indexDigest === undefined ? {} : { indexDigest: value.indexDigest as string }),
      platform: value.platform as string,
    };
  }
  const dangling = parsed.dangling.map((value, i) => {
    if (!isImageEntry(value)) throw bad(`dangling[${i}] is not an image record`);
    return { manifestDigest: value.manifestDigest as string, platform: value.platform as string };
  });
  return { names, dangling };
}

function isImageEntry(value: unknown): value is Record<string, unknown> {
  return isObject(value) && typeof value.manifestDigest === 'string' && isDigest(value.manifestDigest) && typeof value.platform === 'string';
}

export function writeRepositories(dir: string, repos: Repositories): void {
  const names = Object.fromEntries(Object.entries(repos.names).sort(([a], [b]) => (a < b ? -1 : 1)));
  replaceFile(join(dir, 'repositories.json'), `${JSON.stringify({ names, dangling: repos.dangling }, null, 2)}\n`);
}

/** A pod's claim on the images it runs: `leases/<id>.json`. */
export interface Lease {
  id: string;
  /** The pod's state directory: while it exists, the lease holds. */
  podDir: string;
  /** Manifest digests. */
  images: string[];
}

const LEASE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkLeaseId(id: string): void {
  if (!LEASE_ID.test(id)) throw new MinipodError(`lease id "${id}" must be 1-128 letters, digits, '.', '_' or '-', not starting with a punctuation mark`);
}

function leasesDir(dir: string): string {
  return join(dir, 'leases');
}

export function writeLease(dir: string, lease: Lease): void {
  checkLeaseId(lease.id);
  mkdirSync(leasesDir(dir), { recursive: true });
  // Not fsynced: a lease says what a running pod uses, and after a crash no pod runs.
  replaceFile(join(leasesDir(dir), `${lease.id}.json`), `${JSON.stringify({ podDir: lease.podDir, images: lease.images })}\n`, false);
}

export function deleteLease(dir: string, id: string): void {
  checkLeaseId(id);
  rmSync(join(leasesDir(dir), `${id}.json`), { force: true });
}

export function readLeases(dir: string): Lease[] {
  return listDir(leasesDir(dir))
    .filter((name) => name.endsWith('.json') && LEASE_ID.test(name.slice(0, -5)))
    .map((name) => {
      const file = join(leasesDir(dir), name);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw wrapError(file, err);
      }
      if (!isObject(parsed) || typeof parsed.podDir !== 'string' || !isStringArray(parsed.images)) {
        throw new MinipodError(`${file}: must hold "podDir" and "images"`);
      }
      return { id: name.slice(0, -5), podDir: parsed.podDir, images: parsed.images };
    });
}

/** A lease whose pod directory is gone belongs to a pod that was removed (or lost): it holds nothing. */
export function isLive(lease: Lease): boolean {
  return statSync(lease.podDir, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/**
 * What a pull or load in progress has fetched or is about to, before an
 * image refers to it: `leases/.hold-<random>/`, a directory its process
 * holds locked (so it ends with the process, however it ends), holding
 * `digests.json`. The garbage collector keeps every digest a live hold lists.
 */
export class Hold {
  private readonly digests = new Set<string>();

  private constructor(private readonly libc: Libc, readonly path: string, private readonly fd: number) {}

  static create(libc: Libc, dir: string): Hold {
    mkdirSync(leasesDir(dir), { recursive: true });
    const { path, fd } = createHeld(libc, leasesDir(dir), '.hold-', (p) => mkdirSync(p, { mode: 0o700 }));
    return new Hold(libc, path, fd);
  }

  /** Record more digests (blobs, diff IDs); the caller holds the store lock. */
  add(digests: readonly string[]): void {
    for (const d of digests) this.digests.add(d);
    replaceFile(join(this.path, 'digests.json'), `${JSON.stringify([...this.digests])}\n`);
  }

  release(): void {
    try {
      rmSync(this.path, { recursive: true, force: true });
    } finally {
      this.libc.close(this.fd);
    }
  }
}

/**
 * The digests live holds protect; the holds of processes that are gone are
 * removed when `sweep` is set (their names are returned).
 */
export function readHolds(libc: Libc, dir: string, sweep: boolean): { protected: Set<string>; swept: string[] } {
  const result = { protected: new Set<string>(), swept: [] as string[] };
  for (const name of listDir(leasesDir(dir)).filter((n) => n.startsWith('.hold-'))) {
    const path = join(leasesDir(dir), name);
    const fd = tryHold(libc, path);
    if (fd !== null) {
      try {
        if (sweep) {
          rmSync(path, { recursive: true, force: true });
          result.swept.push(name);
        }
      } finally {
        libc.close(fd);
      }
      continue;
    }
    let listed: unknown;
    try {
      listed = JSON.parse(readFileSync(join(path, 'digests.json'), 'utf8'));
    } catch {
      continue; // gone since, or not written yet: protects nothing so far
    }
    if (isStringArray(listed)) for (const d of listed) result.protected.add(d);
  }
  return result;
}

/**
 * The temporary files of replacements a crash interrupted (`.<name>.<random>`
 * beside repositories.json and the leases); the caller holds the store
 * lock, under which every replacement is made, so none is in progress.
 */
export function sweepRecordTemps(dir: string): number {
  let removed = 0;
  for (const [d, pattern] of [[dir, /^\.repositories\.json\.[0-9a-f]{12}$/], [leasesDir(dir), /^\..+\.json\.[0-9a-f]{12}$/]] as const) {
    for (const name of listDir(d).filter((n) => pattern.test(n))) {
      rmSync(join(d, name), { force: true });
      removed++;
    }
  }
  return removed;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
