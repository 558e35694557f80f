// Layers for unpack tests: tars built with tar-stream's pack, or block by
// block for what pack will not write (GNU long names, raw typeflags, PAX
// records with binary values, bytes after the end marker), and a scratch
// area whose files beside the snapshot must come through unchanged.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Header, pack } from 'tar-stream';
import * as assert from 'uvu/assert';
import { LayerError } from '../../lib/image/layer-error.ts';
import { type UnpackResult, unpackLayer } from '../../lib/image/unpack.ts';
import { ENOSYS } from '../../lib/sys/errno.ts';
import { openHost } from '../../lib/sys/host.ts';
import { Libc, type RawLibc } from '../../lib/sys/libc.ts';

export const host = await openHost();
export const OCI_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** The test process's own ids: what an unprivileged run can chown to. */
export const own = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

export type PackEntry = Partial<Header> & { name: string; body?: string | Uint8Array; pax?: Record<string, string> };

/** A tar of `entries` as tar-stream writes it (PAX headers for long names), owned by the test's user unless said. */
export async function tarOf(entries: PackEntry[]): Promise<Uint8Array> {
  const p = pack();
  const out: Uint8Array[] = [];
  p.on('data', (chunk: unknown) => out.push(chunk as Uint8Array));
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const { body, ...header } of entries) {
    // pack ends an entry's stream only for a Buffer (not any Uint8Array), even an empty one.
    p.entry({ mtime: new Date(1_600_000_000_000), ...own, ...header } as Header, Buffer.from(body ?? ''));
  }
  p.finalize();
  await ended;
  return Buffer.concat(out);
}

const pad = (bytes: Uint8Array) => Buffer.concat([bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512)]);

/** One raw header block: `type` is the typeflag character; the checksum is computed. */
export function block(h: {
  name: string; type?: string; size?: number; mode?: number; linkname?: string; uid?: number; gid?: number; mtime?: number; devmajor?: number; devminor?: number;
}): Buffer {
  const b = Buffer.alloc(512);
  const octal = (value: number, offset: number, width: number) => b.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'latin1');
  b.write(h.name, 0, 100, 'utf8');
  octal(h.mode ?? 0o644, 100, 8);
  octal(h.uid ?? own.uid, 108, 8);
  octal(h.gid ?? own.gid, 116, 8);
  octal(h.size ?? 0, 124, 12);
  octal(h.mtime ?? 1_600_000_000, 136, 12);
  b.write(h.type ?? '0', 156, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 'latin1');
  octal(h.devmajor ?? 0, 329, 8);
  octal(h.devminor ?? 0, 337, 8);
  return checksummed(b);
}

/** Recompute a header block's checksum after a change. */
export function checksummed(b: Buffer): Buffer {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** A header block and its padded body. */
export const entry = (header: Parameters<typeof block>[0], body: Uint8Array = new Uint8Array(0)) =>
  Buffer.concat([block({ ...header, size: header.size ?? body.length }), pad(body)]);

/** A PAX `x` (or `g`) extension header holding these records, values as given bytes. */
export function paxHeader(records: [string, string | Uint8Array][], type = 'x'): Buffer {
  const body = Buffer.concat(records.map(([key, value]) => {
    const rest = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let length = rest.length + 1;
    while (String(length).length + rest.length !== length) length++;
    return Buffer.concat([Buffer.from(String(length)), rest]);
  }));
  return entry({ name: 'PaxHeader', type }, body);
}

/** GNU tar's `L` (long name) or `K` (long link) block before an entry. */
export const gnuLong = (type: 'L' | 'K', text: string) => entry({ name: '././@LongLink', type }, Buffer.from(`${text}\0`));

export const END = Buffer.alloc(1024);

/**
 * This host's libc as on a kernel without openat2 (before 5.6, or a
 * seccomp filter answering ENOSYS): Libc then walks paths itself.
 */
export function withoutOpenat2(libc: Libc): Libc {
  const raw = Object.create(libc.raw) as RawLibc;
  let errno = 0;
  raw.errno = () => errno || libc.raw.errno();
  raw.openat2 = () => ((errno = ENOSYS), -1);
  for (const name of Object.keys(libc.raw) as (keyof RawLibc)[]) {
    if (name === 'errno' || name === 'openat2') continue;
    const call = libc.raw[name] as (...args: unknown[]) => number;
    (raw as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => ((errno = 0), call(...args));
  }
  return new Libc(raw);
}

/** `bytes` as a blob arriving in chunks of `size` bytes (the parser must not care where they split). */
export async function* chunked(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface UnpackAs {
  mediaType?: string;
  /** --max-unpacked-size */
  max?: number;
  maxEntries?: number;
  /** The size of the blob's chunks. */
  chunk?: number;
  libc?: Libc;
}

/**
 * A scratch area: `dest`, the empty snapshot directory, and beside it the
 * canaries a hostile layer would reach for (`outside.txt`, `canary/file`,
 * which symlinks in test layers point at).
 */
export class Scene {
  readonly dir = mkdtempSync(join(tmpdir(), 'minipod-unpack-'));
  readonly dest = join(this.dir, 'dest');
  readonly canary = join(this.dir, 'canary');
  private readonly before: string;

  constructor() {
    mkdirSync(this.dest, { mode: 0o755 });
    mkdirSync(this.canary);
    writeFileSync(join(this.canary, 'file'), 'canary\n');
    writeFileSync(join(this.dir, 'outside.txt'), 'outside\n');
    this.before = this.outside();
  }

  unpack(layer: Uint8Array | AsyncIterable<Uint8Array>, opts: UnpackAs = {}): Promise<UnpackResult> {
    const blob = layer instanceof Uint8Array ? chunked(layer, opts.chunk) : layer;
    const libc = opts.libc ?? host.libc;
    return unpackLayer(blob, opts.mediaType ?? OCI_TAR, this.dest, { libc, maxUnpackedSize: opts.max ?? 1 << 30, maxEntries: opts.maxEntries });
  }

  /** The unpack must fail with exactly `message`, a LayerError, and leave everything beside dest as it was. */
  async refuses(layer: Uint8Array, message: string, opts: UnpackAs = {}): Promise<LayerError> {
    let error: unknown = null;
    try {
      await this.unpack(layer, opts);
    } catch (err) {
      error = err;
    }
    assert.instance(error, LayerError, `expected a LayerError "${message}", got ${error}`);
    assert.is((error as Error).message, message);
    this.assertOutsideUnchanged();
    return error as LayerError;
  }

  assertOutsideUnchanged(): void {
    assert.is(this.outside(), this.before, 'something beside the snapshot changed');
  }

  /** Every path beside dest, with its type, mode and contents (or link target). */
  private outside(): string {
    const lines: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (path === this.dest) continue;
        const st = lstatSync(path);
        const what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `-> ${readlinkSync(path)}` : readFileSync(path, 'utf8');
        lines.push(`${path} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${what}`);
        if (st.isDirectory()) walk(path);
      }
    };
    walk(this.dir);
    return lines.join('\n');
  }

  /** What the snapshot holds: `path type mode uid:gid` per entry, sorted, contents of files after `=`. */
  listing(): string[] {
    const lines: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        const st = lstatSync(path);
        const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : '?';
        const extra = type === 'f' ? ` =${readFileSync(path, 'utf8')}` : type === 'l' ? ` -> ${readlinkSync(path)}` : type === 'c' || type === 'b' ? ` ${st.rdev}` : '';
        lines.push(`${rel}${name} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${extra}`);
        if (type === 'd') walk(path, `${rel}${name}/`);
      }
    };
    walk(this.dest, '');
    return lines;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
