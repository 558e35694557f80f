import { hostname, networkInterfaces } from 'node:os';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { pod } from '../helpers/cli.ts';

const { test, run } = kernelSuite('the status at the end of run');

/** One container exiting 0, one exiting 3, one whose command is not there. */
function mixed() {
  const manifest = pod('mixed', { ok: 'echo fine', three: 'echo failing; exit 3' });
  manifest.spec.containers.push({ name: 'nf', image: 'busybox', command: ['no-such-program'] });
  return manifest;
}

/** The status table at the end of stderr: the pod's row and the containers' rows, split into columns. */
function table(stderr: string): { pod: string[]; containers: string[][] } {
  const lines = stderr.trimEnd().split('\n');
  const at = lines.findLastIndex((l) => l.startsWith('NAME '));
  assert.ok(at >= 0 && lines[at + 2]?.startsWith('CONTAINER '), `no status table at the end of:\n${stderr}`);
  const cells = (l: string) => l.split(/ {3,}/);
  return { pod: cells(lines[at + 1]!), containers: lines.slice(at + 3).map(cells) };
}

test('a table on stderr: the pod, then each container with its exit code and kubelet reason', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('mixed.json', mixed())]);
  assert.is(r.exitCode, 3, r.all);
  assert.not.match(r.stdout, 'NAME', 'the table is not on stdout');
  assert.match(r.stdout, 'ok | fine');
  const { pod: podRow, containers } = table(r.stderr);
  assert.equal(podRow.slice(0, 4), ['mixed', '0/3', 'Failed', '0']);
  assert.match(podRow[4]!, /^\d+(ms|\.\ds)$/);
  assert.equal(podRow.slice(5), ['<none>', hostname()], 'IP and NODE, as kubectl get pod -o wide');
  assert.equal(containers.map((c) => c.slice(0, 5)), [
    ['ok', 'terminated', '0', 'Completed', '0'],
    ['three', 'terminated', '3', 'Error', '0'],
    ['nf', 'terminated', '127', 'ContainerCannotRun', '0'],
  ]);
  for (const c of containers) assert.match(c[5]!, /^\d+(ms|\.\ds)$/, 'a duration');
});

test('-o json: stdout is a v1 PodStatus alone, the container lines go to stderr', async ({ scratch }) => {
  const r = await scratch.minipod(['run', '-o', 'json', scratch.manifest('mixed.json', mixed())]);
  assert.is(r.exitCode, 3, r.all);
  assert.match(r.stderr, 'ok | fine');
  assert.match(r.stderr, 'three | failing');
  assert.not.match(r.stderr, 'CONTAINER', 'no table with -o json');
  const status = JSON.parse(r.stdout);
  assert.is(status.phase, 'Failed');
  assert.match(status.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.not.ok('podIP' in status || 'podIPs' in status, 'a pod of its own network has no address: left out, not invented');
  assert.equal(status.hostIPs, [{ ip: status.hostIP }]);
  assert.ok(networkAddresses().includes(status.hostIP), `${status.hostIP} is one of the host's addresses`);
  const byName = Object.fromEntries(status.containerStatuses.map((c: { name: string }) => [c.name, c]));
  assert.equal(Object.keys(byName), ['ok', 'three', 'nf']);
  for (const c of status.containerStatuses) {
    assert.equal([c.ready, c.restartCount, c.image, c.lastState], [false, 0, 'busybox', {}]);
    const { startedAt, finishedAt } = c.state.terminated;
    assert.ok(Date.parse(startedAt) <= Date.parse(finishedAt) && Date.parse(status.startTime) <= Date.parse(startedAt), c.name);
  }
  assert.equal([byName.ok.state.terminated.exitCode, byName.ok.state.terminated.reason], [0, 'Completed']);
  assert.equal([byName.three.state.terminated.exitCode, byName.three.state.terminated.reason], [3, 'Error']);
  assert.not.ok('message' in byName.three.state.terminated);
  assert.equal(byName.nf.state.terminated.exitCode, 127);
  assert.equal(byName.nf.state.terminated.reason, 'ContainerCannotRun');
  assert.equal(byName.nf.state.terminated.message, 'exec: "no-such-program": executable file not found in $PATH');
});

test('--output json is the same option; an unknown format is refused before anything runs', async ({ scratch }) => {
  const file = scratch.manifest('ok.json', pod('ok', { c: 'echo hi' }));
  const r = await scratch.minipod(['run', '--output', 'json', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(JSON.parse(r.stdout).containerStatuses[0].state.terminated.reason, 'Completed');
  const bad = await scratch.minipod(['run', '-o', 'yaml', file]);
  assert.is(bad.exitCode, 125);
  assert.is(bad.stderr, 'minipod: --output: Unsupported value: "yaml": supported values: "table", "json"');
  assert.is(bad.stdout, '');
});

test('no table when minipod fails before the pod ran', async ({ scratch }) => {
  const r = await scratch.minipod(['run', `${scratch.dir}/nope.yaml`]);
  assert.is(r.exitCode, 125);
  assert.is(r.stderr.split('\n').length, 1, r.stderr);
});

test('a pod stopped by SIGTERM: containers reported as kubelet does (Error 143, or Completed for a clean exit)', async ({ scratch }) => {
  const file = scratch.manifest('stop.json', pod('stop', {
    polite: 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done',
    plain: 'echo ready; exec sleep 60',
  }, { restartPolicy: 'Always', shareProcessNamespace: true })); // so that sleep is not PID 1, which ignores SIGTERM
  const child = scratch.minipod(['run', file]);
  await new Promise<void>((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.split('\n').filter((l) => l.endsWith('| ready')).length >= 2) resolve();
    });
  });
  process.kill(child.pid!, 'SIGTERM');
  const r = await child;
  assert.is(r.exitCode, 143, r.all);
  assert.equal(table(r.stderr).containers.map((c) => c.slice(0, 4)), [
    ['polite', 'terminated', '0', 'Completed'],
    ['plain', 'terminated', '143', 'Error'],
  ]);
});

function networkAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

run();
