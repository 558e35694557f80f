import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consumeTogether } from '../../../lib/image/tee.ts';

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

const value = <T>(r: PromiseSettledResult<T>): T => {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
};
const reason = (r: PromiseSettledResult<unknown>): string => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled');

test('both consumers see every byte, a fast one held to the pace of a slow one', async () => {
  const [a, b] = await consumeTogether(chunks(64), (c) => total(c), (c) => total(c, true));
  assert.equal(value(a), value(b));
  assert.is(value(a)[0], 64 * 65536);
});

test('a consumer that ends without reading (a blob already present) does not hold the other back', async () => {
  const [first, second] = await consumeTogether(chunks(64), async () => 'present', (c) => total(c));
  assert.is(value(first), 'present');
  assert.is(value(second)[0], 64 * 65536);
});

test('the secondary failing (a hostile layer) lets the primary read on to the end, and both results are given', async () => {
  const [kept, made] = await consumeTogether(chunks(64), (c) => total(c), async (c) => {
    for await (const _ of c) throw new Error('layer entry "../x": path leaves the layer');
  });
  assert.is(value(kept)[0], 64 * 65536);
  assert.is(reason(made), 'layer entry "../x": path leaves the layer');
});

test('the primary failing (more bytes than announced) stops the source and the secondary', async () => {
  let read = 0;
  const [kept, made] = await consumeTogether(chunks(10_000), async (c) => {
    for await (const _ of c) throw new Error('blob sha256:abcd: expected 10 bytes, got more');
  }, async (c) => {
    for await (const x of c) read += x.length;
  });
  assert.is(reason(kept), 'blob sha256:abcd: expected 10 bytes, got more');
  assert.is(reason(made), 'blob sha256:abcd: expected 10 bytes, got more');
  assert.ok(read < 10_000 * 65536, 'the secondary did not read on to the end');
});

test('a source that fails (the connection dropped) fails both, with its error', async () => {
  const [a, b] = await consumeTogether(chunks(8, 1024, new Error('socket hang up')), (c) => total(c), (c) => total(c));
  assert.equal([reason(a), reason(b)], ['socket hang up', 'socket hang up']);
});

test.run();
