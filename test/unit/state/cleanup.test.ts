// isLost and cleanUp: what a pod whose supervisor is gone leaves behind, and
// its removal. The processes are real (this test's own `sleep 30`s, for
// their start times); the kills go to the recording fake libc.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanUp, isLost } from '../../../lib/state/cleanup.ts';
import { processRef } from '../../../lib/state/process-ref.ts';
import type { ContainerRecord, PodRecord, ProcessRef } from '../../../lib/state/record.ts';
import { logsRoot } from '../../../lib/state/store.ts';
import { FakeLibc } from '../../../lib/sys/fake.ts';
import { Libc } from '../../../lib/sys/libc.ts';

async function deadRef(): Promise<ProcessRef> {
  const child = spawn('true', [], { stdio: 'ignore' });
  const ref = await once(child, 'spawn').then(() => processRef(child.pid!));
  await once(child, 'exit');
  return ref;
}

const children: ChildProcess[] = [];

async function sleeper(): Promise<{ pid: number; ref: ProcessRef }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return { pid: child.pid!, ref: processRef(child.pid!) };
}

async function killSleepers(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

function container(name: string, process: ProcessRef | null, kind: ContainerRecord['kind'] = 'app'): ContainerRecord {
  return {
    name, kind, image: 'busybox', imageID: '', restarts: 0, state: process ? 'running' : 'waiting', startedAt: process ? 1 : null,
    last: null, previous: null, usage: null, process,
    exec: { env: {}, user: { uid: 0, gid: 0, groups: [] }, workingDir: '/', capabilities: '0', noNewPrivs: false, seccomp: false }, cgroupProcs: [],
  };
}

function pod(fields: Partial<PodRecord>): PodRecord {
  return {
    id: '0123456789ab', uid: 'u1', name: 'web', namespace: 'default', detached: true,
    supervisor: processRef(process.pid), phase: 'Running', reason: null, exitCode: null,
    createdAt: 1, finishedAt: null, manifest: {}, pause: null, cgroups: [], logDir: '/nowhere',
    initContainers: [], containers: [], ...fields,
  };
}

test('isLost: a finished pod is never lost, whatever its supervisor', async () => {
  const dead = await deadRef();
  for (const phase of ['Succeeded', 'Failed'] as const) {
    assert.is(isLost(pod({ phase, supervisor: dead })), false, phase);
    assert.is(isLost(pod({ phase })), false, phase);
  }
});

test('isLost: a running or pending pod with a live supervisor is not lost', () => {
  assert.is(isLost(pod({ phase: 'Running' })), false);
  assert.is(isLost(pod({ phase: 'Pending' })), false);
});

test('isLost: a running or pending pod whose supervisor is gone is lost', async () => {
  const dead = await deadRef();
  assert.is(isLost(pod({ phase: 'Running', supervisor: dead })), true);
  assert.is(isLost(pod({ phase: 'Pending', supervisor: dead })), true);
  const reused = { pid: process.pid, startTime: String(Number(processRef(process.pid).startTime) + 1) };
  assert.is(isLost(pod({ phase: 'Running', supervisor: reused })), true, 'its pid taken by another process');
});

/** A state root holding the pod's directory (its state) and its log directory under `<root>/logs`. */
function stateRoot(id: string): { root: string; podDir: string; logDir: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'minipod-cleanup-'));
  const podDir = join(root, id);
  mkdirSync(podDir);
  writeFileSync(join(podDir, 'state.json'), '{}');
  const logDir = join(logsRoot(root), `default_web_${id}`);
  mkdirSync(join(logDir, 'app'), { recursive: true });
  writeFileSync(join(logDir, 'app', '0.log'), 'hello\n');
  return { root, podDir, logDir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

test('cleanUp: kills the live processes (pause, init and app containers), never a reused pid; removes the state, keeps the logs', async () => {
  const { root, podDir, logDir, remove } = stateRoot('0123456789ab');
  try {
    const pause = await sleeper();
    const app = await sleeper();
    const sidecar = await sleeper();
    const reused = await sleeper();
    const dead = await deadRef();
    const wrongStart = { pid: reused.pid, startTime: String(Number(reused.ref.startTime) + 1) };
    const p = pod({
      supervisor: dead, pause: pause.ref, logDir, cgroups: [],
      initContainers: [container('setup', sidecar.ref, 'sidecar'), container('done', dead, 'init')],
      containers: [container('app', app.ref), container('other', wrongStart), container('idle', null)],
    });
    const fake = new FakeLibc();
    await cleanUp(new Libc(fake), root, p, { logs: false });
    assert.equal(fake.calls, [['kill', pause.pid, 9], ['kill', sidecar.pid, 9], ['kill', app.pid, 9]]);
    assert.not.ok(fake.calls.some(([, pid]) => pid === reused.pid), 'the reused pid is not hit');
    assert.not.ok(existsSync(podDir));
    assert.ok(existsSync(join(logDir, 'app', '0.log')), 'the logs stay without {logs: true}');
    assert.ok(existsSync(root));
  } finally {
    await killSleepers();
    remove();
  }
});

test('cleanUp with {logs: true} removes the log directory too, and the logs root once empty', async () => {
  const { root, podDir, logDir, remove } = stateRoot('0123456789ab');
  try {
    const pause = await sleeper();
    const dead = await deadRef();
    const other = join(logsRoot(root), 'default_db_fedcba987654');
    mkdirSync(join(other, 'app'), { recursive: true });
    const fake = new FakeLibc();
    await cleanUp(new Libc(fake), root, pod({ supervisor: dead, pause: pause.ref, logDir }), { logs: true });
    assert.equal(fake.calls, [['kill', pause.pid, 9]]);
    assert.not.ok(existsSync(podDir));
    assert.not.ok(existsSync(logDir));
    assert.ok(existsSync(other), "another pod's logs stay, and the logs root with them");
    mkdirSync(join(root, 'fedcba987654'));
    await cleanUp(new Libc(fake), root, pod({ id: 'fedcba987654', supervisor: dead, logDir: other }), { logs: true });
    assert.is(fake.calls.length, 1, 'nothing alive in the second pod');
    assert.not.ok(existsSync(join(root, 'fedcba987654')));
    assert.not.ok(existsSync(logsRoot(root)), 'the last one out removes the logs root');
    assert.ok(existsSync(root), 'the state root stays');
  } finally {
    await killSleepers();
    remove();
  }
});

test('cleanUp: a kill that fails (gone meanwhile) does not stop the rest', async () => {
  const { root, podDir, logDir, remove } = stateRoot('0123456789ab');
  try {
    const pause = await sleeper();
    const app = await sleeper();
    const p = pod({ supervisor: await deadRef(), pause: pause.ref, logDir, containers: [container('app', app.ref)] });
    const fake = new FakeLibc().failOn('kill', 3, ([pid]) => pid === pause.pid);
    await cleanUp(new Libc(fake), root, p, { logs: false });
    assert.equal(fake.calls, [['kill', pause.pid, 9], ['kill', app.pid, 9]]);
    assert.not.ok(existsSync(podDir));
  } finally {
    await killSleepers();
    remove();
  }
});

test('cleanUp: nothing alive, no cgroups: no call at all, only the state removed', async () => {
  const { root, podDir, logDir, remove } = stateRoot('0123456789ab');
  try {
    const dead = await deadRef();
    const p = pod({ supervisor: dead, pause: dead, cgroups: [], logDir, containers: [container('app', dead), container('idle', null)] });
    mkdirSync(join(podDir, 'sub'));
    writeFileSync(join(podDir, 'sub', 'file'), '');
    const fake = new FakeLibc();
    await cleanUp(new Libc(fake), root, p, { logs: false });
    assert.equal(fake.calls, []);
    assert.not.ok(existsSync(podDir));
    assert.ok(existsSync(logDir));
    // a second clean-up of the same pod finds nothing to do but the logs
    await cleanUp(new Libc(fake), root, p, { logs: true });
    assert.equal(fake.calls, []);
    assert.not.ok(existsSync(logsRoot(root)));
  } finally {
    remove();
  }
});

test.run();
