// Unpacked layers, one per diff ID, containerd's snapshots: snapshots/<hex>/fs
// is an overlayfs lowerdir, snapshots/<hex>/layer.json says what it holds.
// A layer is unpacked into a held snapshots/.tmp-* directory and renamed
// into place complete, layer.json and all: a snapshot directory under its
// final name is always whole, and two images sharing a layer share it.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';
import type { Libc } from '../sys/libc.ts';
import { DigestError, type ContentStore } from './content.ts';
import { digestHex, digestsNamedIn, shortDigest } from './digest.ts';
import { syncPath, writeSynced } from './durable.ts';
import { createHeld, sweepUnheld } from './held.ts';

/** What unpacking a layer found, as layer.json keeps it. */
export interface LayerInfo {
  /** sha256 of the uncompressed tar stream. */
  diffID: string;
  /** Bytes of the files unpacked. */
  size: number;
  /** Directories that were opaque in the layer (`.wh..wh..opq`), absolute paths. */
  opaque: string[];
  /** Names the layer whites out (`.wh.NAME`), absolute paths. */
  whiteouts: string[];
}

/**
 * Unpacks one layer blob into `dest`, an empty directory, and reports what
 * it found; throws on anything hostile, having written nothing outside dest.
 */
export type Unpacker = (
  blob: AsyncIterable<Uint8Array>,
  mediaType: string,
  dest: string,
  opts: { libc: Libc; maxUnpackedSize: number },
) => Promise<LayerInfo>;

/** A layer as the manifest and the config name it. */
export interface LayerRef {
  /** The blob: the (usually compressed) tar as the manifest lists it. */
  digest: string;
  mediaType: string;
  /** The config's rootfs.diff_ids entry for this layer. */
  diffID: string;
}

/** A snapshot taken out of sight (renamed to a held .tmp-*), to be deleted outside the store lock. */
export interface DetachedSnapshot {
  path: string;
  fd: number;
}

export class SnapshotStore {
  readonly dir: string;

  constructor(imagesDir: string, private readonly content: ContentStore, private readonly libc: Libc, private readonly unpack: Unpacker) {
    this.dir = join(imagesDir, 'snapshots');
  }

  private snapshotDir(diffID: string): string {
    return join(this.dir, digestHex(diffID, 'layer diff ID'));
  }

  fsDir(diffID: string): string {
    return join(this.snapshotDir(diffID), 'fs');
  }

  has(diffID: string): boolean {
    return statSync(join(this.snapshotDir(diffID), 'layer.json'), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  info(diffID: string): LayerInfo {
    const file = join(this.snapshotDir(diffID), 'layer.json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw wrapError(`snapshot of layer ${shortDigest(diffID)}: ${file}`, err);
    }
    if (
      !isObject(parsed) || parsed.diffID !== diffID || !Number.isSafeInteger(parsed.size) ||
      !isStringArray(parsed.opaque) || !isStringArray(parsed.whiteouts)
    ) {
      throw new MinipodError(`snapshot of layer ${shortDigest(diffID)}: ${file} is not a layer record of that layer`);
    }
    return { diffID, size: parsed.size as number, opaque: parsed.opaque, whiteouts: parsed.whiteouts };
  }

  /**
   * The snapshot of `layer`, unpacked from its blob (which must be present,
   * unless `source` gives the blob's bytes as they arrive) unless it
   * already is; its fs directory. What it unpacks counts only if its diff ID
   * is the one the (digest-checked) config gives: then the content is the
   * image's whatever the blob's bytes were, so a snapshot made while the
   * blob streams in needs no wait for the blob's own check.
   */
  async ensure(layer: LayerRef, opts: { maxUnpackedSize: number }, source?: AsyncIterable<Uint8Array>): Promise<string> {
    const final = this.snapshotDir(layer.diffID);
    const fs = join(final, 'fs');
    if (this.has(layer.diffID)) return fs;
    if (!source && !this.content.hasBlob(layer.digest)) throw new MinipodError(`layer ${shortDigest(layer.digest)}: blob is not in the image store`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.sweepTemp();
    // 0700: an image's setuid files and devices must not be reachable by
    // host users through the store; the container sees them through its overlay.
    const tmp = createHeld(this.libc, this.dir, '.tmp-', (p) => mkdirSync(p, { mode: 0o700 }));
    try {
      mkdirSync(join(tmp.path, 'fs'), { mode: 0o755 });
      const found = await this.unpack(source ?? this.content.blobStream(layer.digest), layer.mediaType, join(tmp.path, 'fs'), {
        libc: this.libc,
        maxUnpackedSize: opts.maxUnpackedSize,
      });
      if (found.diffID !== layer.diffID) {
        throw new DigestError(`layer ${shortDigest(layer.digest)}: unpacked content has diff ID ${found.diffID}, the image config says ${layer.diffID}`);
      }
      const info: LayerInfo = { diffID: found.diffID, size: found.size, opaque: found.opaque, whiteouts: found.whiteouts };
      writeSynced(join(tmp.path, 'layer.json'), `${JSON.stringify(info)}\n`);
      syncPath(tmp.path);
      if (!renameOnto(tmp.path, final)) {
        // Another process unpacked the same layer first: its copy stands.
        removeTree(tmp.path);
        return fs;
      }
      syncPath(this.dir);
      return fs;
    } catch (err) {
      removeTree(tmp.path);
      throw err;
    } finally {
      this.libc.close(tmp.fd);
    }
  }

  /** The diff IDs of the snapshots present (complete or not: a directory under a final name). */
  list(): string[] {
    return digestsNamedIn(this.dir);
  }

  /** Rename the snapshot to a held temporary name: gone for every reader at once, deleted by `destroy`. */
  detach(diffID: string): DetachedSnapshot | null {
    const from = this.snapshotDir(diffID);
    if (!statSync(from, { throwIfNoEntry: false })) return null;
    return createHeld(this.libc, this.dir, '.tmp-', (p) => renameSync(from, p));
  }

  destroy(snapshot: DetachedSnapshot): void {
    try {
      removeTree(snapshot.path);
    } finally {
      this.libc.close(snapshot.fd);
    }
  }

  /** Remove the unpacks of processes that are gone (and detached snapshots nobody finished deleting). */
  sweepTemp(): string[] {
    return sweepUnheld(this.libc, this.dir, (name) => name.startsWith('.tmp-'), removeTree);
  }
}

/** rename(2) of a directory onto `to`; false when `to` already exists (a non-empty directory). */
function renameOnto(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Delete a layer tree. Its directories may be read-only (a layer can say
 * 0555), which stops even the owner from removing what is in them unless
 * it is root: make every directory writable first, then remove. Whiteout
 * devices and fifos are removed like files.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
  }
  makeWritable(path);
  rmSync(path, { recursive: true, force: true });
}

function makeWritable(dir: string): void {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) makeWritable(join(dir, name));
}
