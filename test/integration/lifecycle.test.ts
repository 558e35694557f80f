// Issue #3's pod lifecycle, end to end: init containers in order, sidecars,
// restarts of init containers, activeDeadlineSeconds, the downward API in
// env, and pods on the host's namespaces.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { linesOf } from '../helpers/cli.ts';

const { test, run } = kernelSuite('pod lifecycle: init containers, sidecars, deadlines, downward API, host namespaces');

interface C {
  name: string;
  script: string;
  restartPolicy?: 'Always';
  mounts?: boolean;
  env?: unknown[];
}

/** busybox containers running `sh -c SCRIPT`, each with the emptyDir `shared` on /shared when `mounts`. */
function manifest(name: string, init: C[], apps: C[], spec: Record<string, unknown> = {}) {
  const container = ({ name, script, restartPolicy, mounts, env }: C) => ({
    name,
    image: 'busybox',
    command: ['sh', '-c', script],
    ...(restartPolicy ? { restartPolicy } : {}),
    ...(mounts ? { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] } : {}),
    ...(env ? { env } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'lab' }, annotations: { 'example.com/owner': 'ada' } },
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'shared', emptyDir: {} }],
      ...spec,
      initContainers: init.map(container),
      containers: apps.map(container),
    },
  };
}

test('init containers run one at a time, in order, before the app; what they leave in an emptyDir the app reads', async ({ scratch }) => {
  const file = scratch.manifest('init.json', manifest('init', [
    { name: 'first', script: 'echo one >> /shared/log; sleep 0.3; echo first done', mounts: true },
    { name: 'second', script: 'echo two >> /shared/log; echo second done', mounts: true },
  ], [{ name: 'app', script: 'cat /shared/log', mounts: true }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const order = r.stdout.split('\n').filter(Boolean);
  assert.equal(order, ['first | first done', 'second | second done', 'app | one', 'app | two']);
  assert.match(r.stderr, /first \(init\)\s+terminated\s+0\s+Completed/);
});

test('a failing init container with restartPolicy Never fails the pod with its code; the app never starts', async ({ scratch }) => {
  const file = scratch.manifest('fail.json', manifest('fail', [{ name: 'check', script: 'echo nope; exit 4' }], [{ name: 'app', script: 'echo app ran' }]));
  const r = await scratch.minipod(['run', '-o', 'json', file]);
  assert.is(r.exitCode, 4, r.all);
  assert.not.match(r.all, 'app ran');
  const status = JSON.parse(r.stdout);
  assert.is(status.phase, 'Failed');
  assert.equal(status.initContainerStatuses[0].state.terminated.exitCode, 4);
  assert.equal(status.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });
});

test('the table shows a failed init container as kubectl does: Init:Error', async ({ scratch }) => {
  const file = scratch.manifest('fail.json', manifest('fail', [{ name: 'check', script: 'exit 1' }], [{ name: 'app', script: 'true' }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 1, r.all);
  assert.match(r.stderr, /^fail\s+0\/1\s+Init:Error\s+0\s/m);
  assert.match(r.stderr, /^app\s+waiting\s+PodInitializing/m);
});

test('under OnFailure a failed init container is retried with backoff, its restarts counted, then the app runs', async ({ scratch }) => {
  // Fails on its first run only: the emptyDir outlives the container.
  const flaky = 'if [ -e /shared/tried ]; then echo ok; else touch /shared/tried; echo failing; exit 1; fi';
  const file = scratch.manifest('retry.json', manifest('retry', [{ name: 'flaky', script: flaky, mounts: true }], [{ name: 'app', script: 'echo app ran' }], {
    restartPolicy: 'OnFailure',
  }));
  const r = await scratch.minipod(['run', '--backoff', '0.1', '-o', 'json', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.all, 'flaky'), ['failing', 'ok']);
  assert.match(r.stderr, 'container "flaky" exited with 1; restarting in 0.1s (restartPolicy OnFailure)');
  const status = JSON.parse(r.stdout);
  assert.is(status.initContainerStatuses[0].restartCount, 1);
  assert.equal(linesOf(r.all, 'app'), ['app ran']);
});

test('a sidecar runs beside the app, is restarted when it exits, and gets SIGTERM once the app has finished', async ({ scratch }) => {
  // The sidecar's first run ends on its own after 0.1 s; the second runs until stopped.
  const sidecar = [
    'trap "echo got TERM; exit 0" TERM',
    'if [ -e /shared/ran ]; then echo again; else touch /shared/ran; echo up; sleep 0.1; exit 0; fi',
    'while true; do echo tick > /shared/tick; sleep 0.05; done',
  ].join('\n');
  const file = scratch.manifest('sidecar.json', manifest('sidecar', [{ name: 'helper', script: sidecar, restartPolicy: 'Always', mounts: true }], [
    { name: 'app', script: 'sleep 0.8; cat /shared/tick', mounts: true },
  ]));
  const r = await scratch.minipod(['run', '--backoff', '0.1', '-o', 'json', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.all, 'helper'), ['up', 'again', 'got TERM']);
  assert.equal(linesOf(r.all, 'app'), ['tick']);
  assert.match(r.stderr, '(a sidecar (restartPolicy Always))');
  const status = JSON.parse(r.stdout);
  assert.is(status.phase, 'Succeeded');
  assert.is(status.initContainerStatuses[0].restartCount, 1);
  assert.is(status.initContainerStatuses[0].state.terminated.exitCode, 0);
});

test('activeDeadlineSeconds: the pod is stopped when it expires, with reason DeadlineExceeded and exit 124', async ({ scratch }) => {
  const file = scratch.manifest('deadline.json', manifest('deadline', [], [{ name: 'app', script: 'echo started; sleep 30' }], {
    activeDeadlineSeconds: 1,
    terminationGracePeriodSeconds: 1,
  }));
  const started = Date.now();
  const r = await scratch.minipod(['run', '-o', 'json', file]);
  const took = Date.now() - started;
  assert.is(r.exitCode, 124, r.all);
  assert.ok(took >= 1000 && took < 6000, `took ${took} ms`);
  assert.match(r.stderr, 'pod "deadline" was active longer than activeDeadlineSeconds (1s): stopping it');
  const status = JSON.parse(r.stdout);
  assert.equal([status.phase, status.reason], ['Failed', 'DeadlineExceeded']);
  assert.is(status.message, 'Pod was active on the node longer than the specified deadline');
  assert.is(status.containerStatuses[0].state.terminated.reason, 'DeadlineExceeded');
});

test('env valueFrom.fieldRef: the downward API values, usable by a later $(VAR)', async ({ scratch }) => {
  const ref = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const env = [
    ref('POD', 'metadata.name'), ref('NS', 'metadata.namespace'), ref('UID', 'metadata.uid'),
    ref('APP', "metadata.labels['app']"), ref('OWNER', "metadata.annotations['example.com/owner']"),
    ref('NODE', 'spec.nodeName'), ref('SA', 'spec.serviceAccountName'), ref('POD_IP', 'status.podIP'), ref('HOST_IP', 'status.hostIP'),
    { name: 'GREETING', value: '$(POD) in $(NS)' },
  ];
  const script = 'env | grep -E "^(POD|NS|UID|APP|OWNER|NODE|SA|POD_IP|HOST_IP|GREETING)="';
  const file = scratch.manifest('env.json', manifest('downward', [], [{ name: 'app', script, env }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const vars = Object.fromEntries(linesOf(r.stdout, 'app').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  assert.match(vars.UID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(vars.HOST_IP, 'the host has an address');
  assert.equal({ ...vars, UID: undefined, HOST_IP: undefined }, {
    POD: 'downward', NS: 'default', UID: undefined, APP: 'lab', OWNER: 'ada', NODE: hostname(), SA: 'default',
    POD_IP: '', HOST_IP: undefined, GREETING: 'downward in default',
  });
});

/** Command lines of every process on the host, to look for one a pod left behind. */
function processesWith(marker: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
      return cmdline.includes(marker) ? [`${pid}: ${cmdline}`] : [];
    } catch {
      return [];
    }
  });
}

test("hostNetwork, hostIPC, hostPID: the host's namespaces and hostname; what the app leaves running is killed with it", async ({ scratch }) => {
  const ns = ['net', 'ipc', 'pid', 'uts'];
  const script = `hostname; for n in ${ns.join(' ')}; do readlink /proc/self/ns/$n; done; (sleep 31.7 &); sleep 0.2`;
  const file = scratch.manifest('host.json', manifest('host', [], [{ name: 'app', script }], { hostNetwork: true, hostIPC: true, hostPID: true }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app'), [hostname(), ...ns.map((n) => readlinkSync(`/proc/self/ns/${n}`))]);
  assert.equal(processesWith('sleep 31.7'), [], 'the orphaned sleep is gone with the pod');
});

test('without them, the pod has namespaces of its own', async ({ scratch }) => {
  const script = 'for n in net ipc pid uts; do readlink /proc/self/ns/$n; done';
  const file = scratch.manifest('own.json', manifest('own', [], [{ name: 'app', script }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const seen = linesOf(r.stdout, 'app');
  for (const [i, n] of ['net', 'ipc', 'pid', 'uts'].entries()) assert.is.not(seen[i], readlinkSync(`/proc/self/ns/${n}`), n);
});

run();
