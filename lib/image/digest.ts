// Content digests as the OCI image spec writes them, `sha256:<64 lower hex>`.
// Only sha256: it is what every registry and archive uses, and the one
// algorithm the store lays out (blobs/sha256/...).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { MinipodError } from '../errors.ts';

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/**
 * The hex part of a digest, checked before it becomes part of any path:
 * 64 lower-case hex characters cannot name anything but one file.
 */
export function digestHex(digest: unknown, what: string): string {
  if (typeof digest !== 'string') throw new MinipodError(`${what}: digest must be a string`);
  const hex = SHA256.exec(digest)?.[1];
  if (hex) return hex;
  const algorithm = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):/.exec(digest)?.[1];
  if (algorithm && algorithm !== 'sha256') {
    throw new MinipodError(`${what}: digest ${digest}: only sha256 digests are supported`);
  }
  throw new MinipodError(`${what}: "${digest}" is not a sha256 digest (sha256:<64 lower-case hex digits>)`);
}

export function isDigest(s: string): boolean {
  return SHA256.test(s);
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:abcd1234…`, as error messages show a digest. */
export function shortDigest(digest: string): string {
  return digest.length > 15 ? `${digest.slice(0, 15)}…` : digest;
}

/** The digests of the entries of `dir` named by a digest's hex (blobs/sha256/, snapshots/); none when `dir` is absent. */
export function digestsNamedIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => /^[0-9a-f]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
