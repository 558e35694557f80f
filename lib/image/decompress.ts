// A layer blob as its uncompressed tar stream. The compression is read
// from the first bytes, not from the media type: `docker save` archives
// and some registries label a gzip layer as plain tar and the other way
// round, and containerd decompresses by content too.
import { pipeline, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { isDeno } from '../sys/host.ts';
import { LayerError } from './layer-error.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Output chunks, and how far the decompressor may run ahead of the tar
 * writer (it works on libuv's threads meanwhile): zlib's 16 KiB default
 * leaves it idle; 64 KiB took a 104 MiB gzip layer from ~1.0 s to ~0.73 s,
 * and more gained nothing (bench/unpack.sh, on tmpfs).
 */
const CHUNK = 64 * 1024;
const ZLIB = { chunkSize: CHUNK, readableHighWaterMark: CHUNK } as zlib.ZlibOptions;

export function sniff(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  // A skippable frame (magic 0x184D2A50-5F), which zstd readers step over to the data.
  if (((head[0] ?? 0) & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

// Node 20's zlib has no zstd; Node 22.15+ has libzstd's. Deno 2.9's
// node:zlib has one too, but it stops after the first frame (zstd:chunked
// layers are many frames), skips no skippable frame and reports no
// truncation (measured: 0 bytes out, no error), so Deno gets fzstd.
type ZstdZlib = { createZstdDecompress?: (options: zlib.ZlibOptions) => Transform };
const nativeZstd = isDeno ? undefined : (zlib as unknown as ZstdZlib).createZstdDecompress;

/**
 * The blob's compression and its uncompressed bytes. Errors of the blob
 * itself (a dropped connection, a digest that does not match) come out
 * as they are; those of the compressed data as a LayerError.
 */
export async function decompressed(blob: AsyncIterable<Uint8Array>): Promise<{ compression: Compression; chunks: AsyncIterable<Uint8Array> }> {
  const source = blob[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  while (length < 4) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    length += next.value.length;
  }
  const compression = sniff(Buffer.concat(head));
  const sourceErrors = new WeakSet<object>();
  const input = (async function* () {
    try {
      yield* head;
      for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
    } catch (err) {
      if (typeof err === 'object' && err !== null) sourceErrors.add(err);
      throw err;
    } finally {
      await source.return?.();
    }
  })();
  const failed = (err: unknown): unknown => {
    if (err instanceof LayerError || (typeof err === 'object' && err !== null && sourceErrors.has(err))) return err;
    return dataError(compression, err);
  };
  if (compression === 'gzip') return { compression, chunks: throughTransform(input, zlib.createGunzip(ZLIB), failed) };
  if (compression === 'zstd') {
    const chunks = nativeZstd ? throughTransform(input, nativeZstd(ZLIB), failed) : throughFzstd(input, failed);
    return { compression, chunks };
  }
  return { compression, chunks: input };
}

async function* throughTransform(input: AsyncIterable<Uint8Array>, transform: Transform, failed: (err: unknown) => unknown) {
  // Settles once both streams are closed, the blob's iterator included.
  const piped = new Promise<void>((resolve) => pipeline(Readable.from(input, { objectMode: false }), transform, () => resolve()));
  try {
    for await (const chunk of transform) yield chunk as Uint8Array;
  } catch (err) {
    throw failed(err);
  } finally {
    transform.destroy();
    await piped;
  }
}

/** fzstd, for Node 20: pure JavaScript, streaming, the frames' own checks. */
async function* throughFzstd(input: AsyncIterable<Uint8Array>, failed: (err: unknown) => unknown) {
  const out: Uint8Array[] = [];
  const zstd = new Decompress((chunk) => {
    if (chunk.length > 0) out.push(chunk);
  });
  try {
    for await (const chunk of input) {
      zstd.push(chunk);
      yield* out.splice(0);
    }
    zstd.push(new Uint8Array(0), true);
    yield* out.splice(0);
  } catch (err) {
    throw failed(err);
  }
}

function dataError(compression: Compression, err: unknown): LayerError {
  const message = err instanceof Error ? err.message : String(err);
  // zlib says "unexpected end of file", fzstd "unexpected EOF", zstd "...truncated..." or "incomplete".
  if (/unexpected end|unexpected EOF|truncated|incomplete/i.test(message)) {
    return new LayerError(`layer's ${compression} data is truncated`, { cause: err });
  }
  return new LayerError(`layer's ${compression} data is corrupt: ${message}`, { cause: err });
}
