import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { linesOf, pod } from '../helpers/cli.ts';

const { test, run } = kernelSuite('shareProcessNamespace: the pause is PID 1 and reaps orphans');

test('ps inside shows pause as PID 1 and the other container', async ({ scratch }) => {
  const file = scratch.manifest('pid.json', pod('pid', {
    app: 'sleep 1',
    look: 'sleep 0.3; ps -o pid,comm; tr "\\0" " " < /proc/1/cmdline; echo',
  }, { shareProcessNamespace: true }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const lines = linesOf(r.stdout, 'look');
  const rows = lines.slice(1, -1).map((l) => l.trim().split(/\s+/));
  assert.equal(rows[0], ['1', 'pause']);
  assert.is(lines.at(-1), '/pause ', 'shown as /pause, as in Kubernetes, not by its host path');
  assert.ok(rows.some(([, comm]) => comm === 'sleep'), 'the other container is visible');
});

test('an orphaned grandchild is reaped by the pause: no zombie remains', async ({ scratch }) => {
  // `sh -c "sleep 0.2 &"` exits at once; its sleep is orphaned, re-parented
  // to PID 1 (the pause) and must be reaped when it exits.
  const file = scratch.manifest('orphan.json', pod('orphan', {
    app: 'sh -c "sleep 0.2 &"; sleep 0.8; ps -o pid,stat,comm; ps -o stat | grep -c Z || true',
  }, { shareProcessNamespace: true }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const lines = linesOf(r.stdout, 'app');
  assert.is(lines.at(-1), '0', `no process in state Z:\n${lines.join('\n')}`);
  assert.ok(!lines.some((l) => /\bsleep\b/.test(l) && /\bZ\b/.test(l)));
});

test('without sharing, the app is PID 1 of its own namespace and sees nothing else', async ({ scratch }) => {
  const file = scratch.manifest('own.json', pod('own', { app: 'ps -o pid,comm' }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app').slice(1).map((l) => l.trim().split(/\s+/)), [['1', 'ps']]);
});

run();
