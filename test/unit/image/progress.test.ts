import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pullProgress } from '../../../lib/image/progress.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function output(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, write: (t: string) => chunks.push(t), chunks };
}

test('not on a terminal: one line per finished layer, nothing while it runs', () => {
  const out = output(false);
  let t = 0;
  const p = pullProgress(out, () => t);
  const a = p.layer(D1, 4 * 1048576);
  const b = p.layer(D2, 10);
  a.add(1048576);
  t = 500;
  a.add(3 * 1048576);
  assert.equal(out.chunks, []);
  t = 2000;
  a.done();
  b.done(true);
  p.close();
  assert.equal(out.chunks, ['111111111111: pulled 4.0 MiB in 2.0s (2.0 MiB/s)\n', '222222222222: already exists\n']);
});

test('on a terminal: every layer on its line, redrawn in place, at most every 100 ms', () => {
  const out = output(true);
  let t = 0;
  const p = pullProgress(out, () => t);
  const a = p.layer(D1, 2 * 1048576);
  assert.equal(out.chunks, ['\r\x1b[2K111111111111: 0.0 KiB / 2.0 MiB 0.0 KiB/s\n']);
  p.layer(D2, 1048576);
  t = 50;
  a.add(1048576);
  assert.is(out.chunks.length, 2, 'no redraw within 100 ms');
  t = 1000;
  a.add(0);
  assert.is(out.chunks[2], '\x1b[2A\r\x1b[2K111111111111: 1.0 MiB / 2.0 MiB 1.0 MiB/s\n\r\x1b[2K222222222222: 0.0 KiB / 1.0 MiB 0.0 KiB/s\n');
  a.done();
  assert.match(out.chunks[3]!, /^\x1b\[2A\r\x1b\[2K111111111111: pulled 1\.0 MiB in 1\.0s/);
});

test.run();
