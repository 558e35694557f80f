import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forEachLine } from '../../../lib/logs/lines.ts';

const encoder = new TextEncoder();

async function* chunks(...parts: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? encoder.encode(part) : part;
}

async function collect(stream: AsyncIterable<Uint8Array>, maxBytes = 16): Promise<[string, boolean][]> {
  const got: [string, boolean][] = [];
  await forEachLine(stream, maxBytes, (line, partial) => {
    got.push([line, partial]);
  });
  return got;
}

test('lines as they complete, across chunks; an unterminated last line at the end; an empty line kept', async () => {
  assert.equal(await collect(chunks('a\nb', 'c\n\nd')), [['a', false], ['bc', false], ['', false], ['d', false]]);
});

test('a character split across chunks is decoded whole', async () => {
  const euro = encoder.encode('€\n');
  assert.equal(await collect(chunks(euro.subarray(0, 1), euro.subarray(1))), [['€', false]]);
});

test('a line growing past maxBytes without a newline is handed on in partial pieces of maxBytes, then its end', async () => {
  const got = await collect(chunks('0123456789', '0123456789', '0123456789', 'ab\nnext\n'));
  assert.equal(got, [['0123456789012345', true], ['67890123456789ab', false], ['next', false]]);
});

test('a complete long line in one chunk is one line (the log writer cuts it into records)', async () => {
  const long = 'x'.repeat(100);
  assert.equal(await collect(chunks(`${long}\n`)), [[long, false]]);
});

test('pieces never cut a character: a 3-byte character that would straddle the limit starts the next piece', async () => {
  // 15 bytes of ASCII then '€' (3 bytes): the first piece stops before it.
  const got = await collect(chunks(`${'a'.repeat(15)}€`, 'b'.repeat(16)));
  assert.equal(got[0], ['a'.repeat(15), true]);
  assert.ok(got.every(([line]) => encoder.encode(line).length <= 16));
  assert.is(got.map(([line]) => line).join(''), `${'a'.repeat(15)}€${'b'.repeat(16)}`);
});

test('what is held stays under maxBytes however much comes without a newline', async () => {
  const pieces: string[] = [];
  async function* endless(): AsyncIterable<Uint8Array> {
    for (let i = 0; i < 1000; i++) yield encoder.encode('y'.repeat(1000));
  }
  await forEachLine(endless(), 16 * 1024, (line, partial) => {
    assert.ok(partial || pieces.length === 61, 'only the end is not partial');
    pieces.push(line);
  });
  assert.ok(pieces.every((p) => p.length <= 16 * 1024));
  assert.is(pieces.join('').length, 1_000_000);
});

test('a promise from onLine holds the reading back until it settles', async () => {
  const events: string[] = [];
  async function* stream(): AsyncIterable<Uint8Array> {
    events.push('chunk 1');
    yield encoder.encode('a\nb\n');
    events.push('chunk 2');
    yield encoder.encode('c\n');
  }
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const done = forEachLine(stream(), 16, (line) => {
    events.push(line);
    return line === 'b' ? held : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(events, ['chunk 1', 'a', 'b']);
  release();
  await done;
  assert.equal(events, ['chunk 1', 'a', 'b', 'chunk 2', 'c']);
});

test.run();
