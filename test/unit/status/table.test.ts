import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ago, columns, duration, humanSize, statusTable } from '../../../lib/status/table.ts';
import { mixedPod, T0 } from './fixture.ts';

test('the pod line, then one line per container, aligned, no trailing blanks', () => {
  assert.fixture(statusTable(mixedPod()), [
    'NAME    READY   STATUS   RESTARTS   AGE   IP       NODE',
    'mixed   0/3     Failed   1          12s   <none>   vm',
    'CONTAINER   STATE        EXIT CODE   REASON               RESTARTS   DURATION',
    'ok          terminated   0           Completed            0          8ms',
    'fail        terminated   3           Error                1          12s',
    'not-found   terminated   127         ContainerCannotRun   0          2ms',
    '',
  ].join('\n'));
});

test('a container waiting to restart when the pod stopped: CrashLoopBackOff, with the exit that led there', () => {
  const pod = mixedPod();
  pod.phase = 'Failed';
  pod.containers = [{ ...pod.containers[1]!, state: 'waiting' }];
  assert.is(statusTable(pod).split('\n')[3], 'fail        waiting   3           CrashLoopBackOff   1          12s');
});

test('a running container (never at the end of run, but shown as such)', () => {
  const pod = mixedPod();
  pod.containers = [{ ...pod.containers[0]!, state: 'running', startedAt: T0 + 500, last: null }];
  const lines = statusTable(pod).split('\n');
  assert.is(lines[1], 'mixed   1/1     Failed   0          12s   <none>   vm');
  assert.is(lines[3], 'ok          running' + ' '.repeat(24) + '0          12s');
});

test('a pod on the host network shows its IP; init containers come first, marked, and a failed one is Init:Error', () => {
  const pod = mixedPod();
  pod.podIP = '192.0.2.2';
  pod.initContainers = [{ ...pod.containers[1]!, name: 'setup', kind: 'init' }];
  pod.containers = [{ ...pod.containers[0]!, state: 'waiting', last: null }];
  const lines = statusTable(pod).split('\n');
  assert.is(lines[1], 'mixed   0/1     Init:Error   1          12s   192.0.2.2   vm');
  assert.is(lines[3], 'setup (init)   terminated   3           Error             1          12s');
  assert.is(lines[4], 'ok             waiting                  PodInitializing   0');
});

test('a pod its deadline ended shows the reason as its STATUS', () => {
  const pod = mixedPod();
  pod.reason = 'DeadlineExceeded';
  assert.match(statusTable(pod).split('\n')[1]!, /^mixed   0\/3     DeadlineExceeded   1 /);
});

test('durations: short, and precise while short', () => {
  assert.equal([0, 999, 1000, 4250, 10_000, 59_999, 60_000, 185_000, 3_600_000, 7_830_000].map(duration),
    ['0ms', '999ms', '1.0s', '4.2s', '10s', '59s', '1m0s', '3m5s', '1h0m', '2h10m']);
});

test('columns pad to the widest cell, three spaces apart', () => {
  assert.equal(columns([['A', 'BB', 'C'], ['aaa', 'b', '']]), ['A     BB   C', 'aaa   b']);
});

const S = 1000;
const AGO: [number, string][] = [
  [500, 'Less than a second ago'], [S, '1 second ago'], [59 * S, '59 seconds ago'], [60 * S, 'About a minute ago'],
  [2 * 60 * S, '2 minutes ago'], [3600 * S, 'About an hour ago'], [5 * 3600 * S, '5 hours ago'], [47 * 3600 * S, '47 hours ago'],
  [3 * 86400 * S, '3 days ago'], [20 * 86400 * S, '2 weeks ago'], [90 * 86400 * S, '3 months ago'], [800 * 86400 * S, '2 years ago'],
];
for (const [ms, text] of AGO) test(`CREATED as docker images prints it (go-units HumanDuration): ${text}`, () => assert.is(ago(ms), text));

const SIZES: [number, string][] = [[0, '0B'], [999, '999B'], [1000, '1kB'], [1982367, '1.98MB'], [77_600_000, '77.6MB'], [5_300_000_000, '5.3GB']];
for (const [bytes, text] of SIZES) test(`SIZE as docker images prints it (decimal units, 3 digits): ${text}`, () => assert.is(humanSize(bytes), text));

test.run();
