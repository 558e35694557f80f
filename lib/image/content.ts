// The content store, containerd's: every blob (manifest, index, config,
// compressed layer) at blobs/sha256/<hex>, written only once its size and
// digest are checked. Downloads stream into ingest/ under a temporary name
// that nothing counts as present; a verified one is fsynced and renamed into
// blobs/, so a blob is either whole and right or absent.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MinipodError } from '../errors.ts';
import type { Libc } from '../sys/libc.ts';
import { digestHex, digestsNamedIn, sha256, shortDigest } from './digest.ts';
import { syncPath, writeSynced } from './durable.ts';
import { createHeld, sweepUnheld } from './held.ts';

/** A blob that is not what its descriptor says: nothing of it is kept. */
export class DigestError extends MinipodError {}

export interface BlobDescriptor {
  digest: string;
  size: number;
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(dir: string, private readonly libc: Libc) {
    this.blobsDir = join(dir, 'blobs', 'sha256');
    this.ingestDir = join(dir, 'ingest');
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digestHex(digest, 'blob'));
  }

  hasBlob(digest: string): boolean {
    return statSync(this.blobPath(digest), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  readBlob(digest: string): Buffer {
    try {
      return readFileSync(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MinipodError(`blob ${digest} is not in the image store`);
      throw err;
    }
  }

  /** The first `n` bytes of a present blob (fewer if it is shorter). */
  readBlobHead(digest: string, n: number): Buffer {
    const fd = openSync(this.blobPath(digest), 'r');
    try {
      const head = Buffer.alloc(n);
      return head.subarray(0, readSync(fd, head, 0, n, 0));
    } finally {
      closeSync(fd);
    }
  }

  blobStream(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  /**
   * Store `body` as the blob `desc` describes. A blob already present is
   * never fetched again: this returns at once without reading `body`.
   * `onBytes` hears of every chunk as it is written (progress).
   */
  async ingest(desc: BlobDescriptor, body: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): Promise<void> {
    const hex = digestHex(desc.digest, 'blob');
    if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
      throw new MinipodError(`blob ${shortDigest(desc.digest)}: size ${desc.size} is not a byte count`);
    }
    if (this.hasBlob(desc.digest)) return;
    await this.write(body, desc.size, onBytes, (got) => {
      const what = `blob ${shortDigest(desc.digest)}`;
      if (got.size > desc.size) throw new DigestError(`${what}: expected ${desc.size} bytes, got more`);
      if (got.size < desc.size) throw new DigestError(`${what}: expected ${desc.size} bytes, got ${got.size} (truncated)`);
      if (got.digest !== desc.digest) throw new DigestError(`${what}: digest mismatch: got ${got.digest}`);
      return hex;
    });
  }

  /**
   * Store `body` under the digest it turns out to have (content whose digest
   * nothing announced, as a docker-save layer); at most `maxSize` bytes.
   * `beforeCommit` hears the digest before the blob becomes visible (to
   * protect it from a collection).
   */
  async ingestComputed(
    body: AsyncIterable<Uint8Array>,
    maxSize: number,
    what: string,
    beforeCommit?: (got: BlobDescriptor) => Promise<void>,
  ): Promise<BlobDescriptor> {
    let result: BlobDescriptor | undefined;
    await this.write(body, maxSize, undefined, async (got) => {
      if (got.size > maxSize) throw new MinipodError(`${what}: larger than the ${maxSize} bytes allowed`);
      await beforeCommit?.(got);
      result = got;
      return digestHex(got.digest, what);
    });
    return result!;
  }

  /** A blob made here (a synthesized manifest): its digest. */
  writeBlob(bytes: Uint8Array): string {
    const digest = sha256(bytes);
    if (this.hasBlob(digest)) return digest;
    mkdirSync(this.ingestDir, { recursive: true });
    const { path, fd } = createHeld(this.libc, this.ingestDir, '', (p) => writeSynced(p, bytes, 0o600));
    try {
      this.commit(path, digestHex(digest, 'blob'));
    } finally {
      this.libc.close(fd);
    }
    return digest;
  }

  /** The digests of the blobs present. */
  listBlobs(): string[] {
    return digestsNamedIn(this.blobsDir);
  }

  /** Size of a present blob, 0 when absent. */
  blobSize(digest: string): number {
    return statSync(this.blobPath(digest), { throwIfNoEntry: false })?.size ?? 0;
  }

  removeBlob(digest: string): void {
    try {
      unlinkSync(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Remove the downloads of processes that are gone; the names removed. */
  sweepIngest(): string[] {
    return sweepUnheld(this.libc, this.ingestDir, () => true, (path) => unlinkSync(path));
  }

  /**
   * Stream `body` into a held temporary file, hashing and counting; stop
   * reading once it passes `limit`. `check` sees what arrived and returns
   * the hex name to commit it under, or throws: then nothing is kept.
   */
  private async write(
    body: AsyncIterable<Uint8Array>,
    limit: number,
    onBytes: ((n: number) => void) | undefined,
    check: (got: BlobDescriptor) => string | Promise<string>,
  ): Promise<void> {
    mkdirSync(this.ingestDir, { recursive: true });
    this.sweepIngest();
    const { path, fd } = createHeld(this.libc, this.ingestDir, '', (p) => writeFileSync(p, '', { flag: 'wx', mode: 0o600 }));
    try {
      const hash = createHash('sha256');
      let size = 0;
      let hex: string;
      const file = await open(path, 'r+');
      try {
        for await (const chunk of body) {
          size += chunk.byteLength;
          if (size > limit) break;
          hash.update(chunk);
          // write(2) may write less than asked (a full disk): what is hashed must be what is on disk.
          for (let done = 0; done < chunk.byteLength;) done += (await file.write(chunk, done)).bytesWritten;
          onBytes?.(chunk.byteLength);
        }
        hex = await check({ digest: `sha256:${hash.digest('hex')}`, size });
        await file.sync();
      } finally {
        await file.close();
      }
      this.commit(path, hex);
    } catch (err) {
      rmSync(path, { force: true });
      throw err;
    } finally {
      this.libc.close(fd);
    }
  }

  /** Rename a complete, synced temporary file into blobs/ and make the rename durable. */
  private commit(tmp: string, hex: string): void {
    mkdirSync(this.blobsDir, { recursive: true });
    renameSync(tmp, join(this.blobsDir, hex));
    syncPath(this.blobsDir);
  }
}
