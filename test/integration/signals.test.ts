import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { execa } from 'execa';
import { cliCommand, linesOf, pod, podIds } from '../helpers/cli.ts';

const { test, run } = kernelSuite('stopping a pod');

/** Wait until the pod printed `ready` from `count` containers; the output keeps flowing to the result. */
function untilReady(output: NodeJS.ReadableStream | null, count: number): Promise<void> {
  let text = '';
  return new Promise((resolve) => {
    output!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.split('\n').filter((l) => l.endsWith('| ready')).length >= count) resolve();
    });
  });
}

test('SIGINT: containers get SIGTERM, the pod ends within the grace period, exit 130, nothing left', async ({ scratch }) => {
  const file = scratch.manifest('stop.json', pod('stop', {
    polite: 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
    stubborn: 'trap "" TERM; echo ready; while true; do sleep 0.1; done',
  }, { restartPolicy: 'Always', terminationGracePeriodSeconds: 1 }));
  const child = scratch.minipod(['run', file]);
  await untilReady(child.stdout, 2);
  const t0 = Date.now();
  process.kill(child.pid!, 'SIGINT'); // not child.kill(): Deno's child_process then reports the signal, not the exit code
  const r = await child;
  const took = Date.now() - t0;
  assert.is(r.exitCode, 130, r.all);
  assert.equal(linesOf(r.stdout, 'polite').slice(-1), ['got-term']);
  assert.ok(took >= 900 && took < 3000, `the stubborn one is killed after the 1 s grace period (took ${took} ms)`);
});

test('a closed stdout does not stop the pod: it still ends and cleans up', async ({ scratch }) => {
  const file = scratch.manifest('pipe.json', pod('pipe', { c: 'echo ready; sleep 0.3; seq 1 1000; exit 3' }));
  const child = scratch.minipod(['run', file]);
  await untilReady(child.stdout, 1);
  child.stdout!.destroy();
  const r = await child;
  assert.is(r.exitCode, 3, r.all);
});

test('a slow reader gets every line: the containers wait for it, and minipod exits only once it has taken all', async ({ scratch }) => {
  const file = scratch.manifest('slow.json', pod('slow', { c: 'seq 1 200000' }));
  const [cmd, pre] = cliCommand;
  const cli = [cmd, ...pre, '--root', scratch.root, 'run', file].map((a) => `'${a}'`).join(' ');
  const r = await execa('bash', ['-c', `${cli} 2>/dev/null | (sleep 1; wc -l)`], { reject: false, timeout: 60_000 });
  assert.is(r.stdout.trim(), '200000', r.all);
});

test('SIGTERM: exit 143; --grace overrides the manifest', async ({ scratch }) => {
  const file = scratch.manifest('term.json', pod('term', {
    stubborn: 'trap "" TERM; echo ready; while true; do sleep 0.1; done',
  }, { restartPolicy: 'Always' }));
  const child = scratch.minipod(['run', '--grace', '0.2', file]);
  await untilReady(child.stdout, 1);
  const t0 = Date.now();
  process.kill(child.pid!, 'SIGTERM');
  const r = await child;
  assert.is(r.exitCode, 143, r.all);
  assert.ok(Date.now() - t0 < 2000, 'not the default 30 s');
  assert.ok(
    r.stderr.split('\n').includes('minipod: restartPolicy is Always (the Kubernetes default): the pod runs until stopped (Ctrl-C)'),
    `the Always note, once: ${r.stderr}`,
  );
});

test('kill -9 of minipod takes the pod with it (PR_SET_PDEATHSIG)', async ({ scratch }) => {
  // The orphans are reaped by the machine's init; the baseline check waits for that.
  const file = scratch.manifest('orphan.json', pod('orphan', { app: 'echo ready; exec sleep 60' }, { shareProcessNamespace: true }));
  const child = scratch.minipod(['run', file]);
  await untilReady(child.stdout, 1);
  child.kill('SIGKILL');
  await child;
  // The state directory and the cgroups stay (a killed supervisor cannot
  // clean up); the processes must not. gc removes the rest, once the
  // processes are gone from the cgroups.
  assert.is(podIds(scratch.root).length, 1, 'the killed pod\'s state is there for gc');
  const gc = await scratch.minipod(['gc', '--logs']);
  assert.is(gc.exitCode, 0, gc.all);
  assert.equal(podIds(scratch.root), []);
});

run();
