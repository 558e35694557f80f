import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseStopSignal } from '../../../lib/image/stop-signal.ts';

const CASES: [string, number][] = [
  ['SIGTERM', 15], ['TERM', 15], ['sigquit', 3], ['SIGINT', 2], ['SIGUSR1', 10], ['9', 9], ['SIGWINCH', 28],
  ['SIGRTMIN', 34], ['SIGRTMIN+3', 37], ['SIGRTMAX-1', 63], ['64', 64],
];
for (const [value, n] of CASES) test(`StopSignal ${value} is ${n}`, () => assert.is(parseStopSignal(value, 'image "x"'), n));

for (const value of ['', 'SIGFOO', '0', '65', 'SIGRTMIN+31', 'SIGRTMAX+1', '-1', 'constructor']) {
  test(`StopSignal ${JSON.stringify(value)} is refused with one line`, () => {
    assert.throws(() => parseStopSignal(value, 'image "x"'), (err: Error) => err.message === `image "x": config StopSignal "${value}" is not a signal`);
  });
}

test.run();
