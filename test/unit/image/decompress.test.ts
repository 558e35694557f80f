import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decompressed, sniff } from '../../../lib/image/decompress.ts';
import { LayerError } from '../../../lib/image/layer-error.ts';
import { chunked } from '../../helpers/layers.ts';

const zstd = async (data: Uint8Array, ...args: string[]) =>
  (await execa('zstd', ['-q', '-c', ...args], { input: Buffer.from(data), encoding: 'buffer' })).stdout as Uint8Array;
const hasZstd = await execa('zstd', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);
const zstdTest = (title: string, fn: () => Promise<void>) => {
  if (hasZstd) return test(title, fn);
  console.log(`  skipping "${title}": the zstd command is not installed`);
  test.skip(title, fn);
};

// Compressible but not trivially: a tar-sized stream with some structure.
const DATA = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join(''));

async function all(blob: Uint8Array, chunk = 64 * 1024): Promise<{ compression: string; data: Buffer }> {
  const { compression, chunks } = await decompressed(chunked(blob, chunk));
  const parts: Uint8Array[] = [];
  for await (const part of chunks) parts.push(part);
  return { compression, data: Buffer.concat(parts) };
}

async function failure(blob: Uint8Array): Promise<Error> {
  try {
    await all(blob);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

test('sniff', () => {
  assert.is(sniff(Uint8Array.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.is(sniff(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.is(sniff(Uint8Array.from([0x50, 0x2a, 0x4d, 0x18])), 'zstd');
  assert.is(sniff(Uint8Array.from([0x5f, 0x2a, 0x4d, 0x18])), 'zstd');
  assert.is(sniff(Uint8Array.from([0x60, 0x2a, 0x4d, 0x18])), 'none');
  assert.is(sniff(Buffer.from('etc/passwd\0')), 'none');
  assert.is(sniff(Uint8Array.from([0x1f])), 'none');
  assert.is(sniff(new Uint8Array(0)), 'none');
});

for (const chunk of [1, 3, 4096, 1 << 20]) {
  test(`gzip, in chunks of ${chunk}`, async () => {
    const blob = gzipSync(DATA);
    assert.equal(await all(blob, chunk), { compression: 'gzip', data: DATA });
  });
}

test('multi-member gzip (pigz, concatenated streams)', async () => {
  const blob = Buffer.concat([gzipSync(DATA.subarray(0, 1000)), gzipSync(DATA.subarray(1000, 50000)), gzipSync(DATA.subarray(50000))]);
  assert.equal(await all(blob), { compression: 'gzip', data: DATA });
});

test('uncompressed passes through unchanged', async () => {
  assert.equal(await all(DATA, 100), { compression: 'none', data: DATA });
});

test('an empty blob is an empty stream', async () => {
  assert.equal(await all(new Uint8Array(0)), { compression: 'none', data: Buffer.alloc(0) });
});

test('truncated gzip', async () => {
  const err = await failure(gzipSync(DATA).subarray(0, 5000));
  assert.instance(err, LayerError);
  assert.is(err.message, "layer's gzip data is truncated");
});

test('corrupt gzip', async () => {
  const blob = gzipSync(DATA);
  blob.fill(0xff, 20, 60);
  const err = await failure(blob);
  assert.instance(err, LayerError);
  assert.match(err.message, /^layer's gzip data is corrupt: [^\n]+$/);
});

zstdTest('zstd', async () => {
  for (const chunk of [1, 4096, 1 << 20]) assert.equal(await all(await zstd(DATA), chunk), { compression: 'zstd', data: DATA });
});

zstdTest('zstd: several frames, and a skippable frame first', async () => {
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]), Buffer.from('meta')]);
  const blob = Buffer.concat([skippable, await zstd(DATA.subarray(0, 30000)), await zstd(DATA.subarray(30000), '--no-check')]);
  assert.equal(await all(blob), { compression: 'zstd', data: DATA });
});

zstdTest('zstd with a long window (zstd --long=27)', async () => {
  assert.equal(await all(await zstd(DATA, '--long=27')), { compression: 'zstd', data: DATA });
});

zstdTest('truncated zstd', async () => {
  const blob = await zstd(DATA);
  const err = await failure(blob.subarray(0, blob.length - 10));
  assert.instance(err, LayerError);
  assert.is(err.message, "layer's zstd data is truncated");
});

zstdTest('corrupt zstd', async () => {
  const blob = Buffer.from(await zstd(DATA));
  blob.fill(0xff, 6, 40);
  const err = await failure(blob);
  assert.instance(err, LayerError);
  assert.match(err.message, /^layer's zstd data is (corrupt: [^\n]+|truncated)$/);
});

test('an error of the blob itself comes out as it is, for every compression', async () => {
  for (const head of [gzipSync(DATA).subarray(0, 100), Buffer.from('plain tar bytes')]) {
    const boom = new Error('connection reset');
    const blob = (async function* () {
      yield head;
      throw boom;
    })();
    const { chunks } = await decompressed(blob);
    let caught: unknown = null;
    try {
      for await (const _ of chunks);
    } catch (err) {
      caught = err;
    }
    assert.is(caught, boom);
  }
});

test('stopping early closes the blob', async () => {
  let closed = false;
  const blob = (async function* () {
    try {
      for (;;) yield gzipSync(DATA);
    } finally {
      closed = true;
    }
  })();
  const { chunks } = await decompressed(blob);
  for await (const _ of chunks) break;
  assert.ok(closed);
});

test.run();
