import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consumeTogether } from '../../../lib/image/tee.ts';
import { rejects } from '../../helpers/assert.ts';

async function* chunks(n: number, size = 65536, fail?: Error) {
  for (let i = 0; i < n; i++) {
    yield new Uint8Array(size).fill(i % 251);
    await new Promise((r) => setImmediate(r));
  }
  if (fail) throw fail;
}

const total = async (copy: AsyncIterable<Uint8Array>, slow = false) => {
  let bytes = 0;
  let sum = 0;
  for await (const c of copy) {
    bytes += c.length;
    for (const b of c) sum = (sum + b) % 1000003;
    if (slow) await new Promise((r) => setTimeout(r, 1));
  }
  return [bytes, sum];
};

test('both consumers see every byte, a fast one held to the pace of a slow one', async () => {
  const [a, b] = await consumeTogether<[number[], number[]]>(chunks(64), [(c) => total(c), (c) => total(c, true)]);
  assert.equal(a, b);
  assert.is(a[0], 64 * 65536);
});

test('a consumer that ends without reading (a blob already present) does not hold the other back', async () => {
  const [first, second] = await consumeTogether<[string, number[]]>(chunks(64), [async () => 'present', (c) => total(c)]);
  assert.is(first, 'present');
  assert.is(second[0], 64 * 65536);
});

test("a consumer that fails (a hostile layer) stops the source and the other consumer, with the failing one's error", async () => {
  let read = 0;
  const err = await rejects(consumeTogether(chunks(10_000), [
    async (c) => {
      for await (const x of c) read += x.length;
    },
    async (c) => {
      for await (const _ of c) throw new Error('layer entry "../x": path leaves the layer');
    },
  ]), /path leaves the layer/);
  assert.is(err.message, 'layer entry "../x": path leaves the layer');
  assert.ok(read < 10_000 * 65536, 'the other consumer did not read on to the end');
});

test('a source that fails (the connection dropped) fails both, with its error', async () => {
  await rejects(consumeTogether(chunks(8, 1024, new Error('socket hang up')), [(c) => total(c), (c) => total(c)]), /^socket hang up$/);
});

test.run();
