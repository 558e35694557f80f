// The pods under a state root as their state files tell: listPods, findPod,
// removeLogs.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PodRecord } from '../../../lib/state/record.ts';
import { findPod, listPods, logsRoot, removeLogs, unrecordedPodDirs } from '../../../lib/state/store.ts';
import { minipodError } from '../../helpers/assert.ts';

function record(id: string, name: string, createdAt: number): PodRecord {
  return {
    id, uid: `uid-${id}`, name, namespace: 'default', detached: true,
    supervisor: { pid: 1, startTime: '1' }, phase: 'Running', reason: null, exitCode: null,
    createdAt, finishedAt: null, manifest: {}, pause: null, cgroups: [],
    logDir: `/logs/default_${name}_uid-${id}`, initContainers: [], containers: [],
  };
}

function writePod(root: string, pod: PodRecord): void {
  mkdirSync(join(root, pod.id), { recursive: true });
  writeFileSync(join(root, pod.id, 'state.json'), JSON.stringify(pod));
}

function withRoot(fn: (root: string) => void): () => void {
  return () => {
    const root = mkdtempSync(join(tmpdir(), 'minipod-store-'));
    try {
      fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

const A = record('abc111111111', 'web', 3000);
const B = record('abc222222222', 'db', 1000);
const C = record('def333333333', 'cache', 2000);

/** Three pods, and everything else a state root can hold. */
function populate(root: string): void {
  for (const pod of [A, B, C]) writePod(root, pod);
  mkdirSync(join(root, 'logs', 'default_web_uid'), { recursive: true });
  writeFileSync(join(root, 'lock'), JSON.stringify({ pid: 1, startTime: '1' }));
  writeFileSync(join(root, 'supervisor.sock'), '');
}

test('listPods: a missing root has no pods', () => {
  assert.equal(listPods(join(tmpdir(), 'minipod-store-does-not-exist', 'x')), []);
});

test('listPods: the pods, oldest first, skipping logs, lock and supervisor.sock', withRoot((root) => {
  populate(root);
  assert.equal(listPods(root), [B, C, A]);
}));

test('listPods: entries that are not pod ids are skipped even with a state.json', withRoot((root) => {
  populate(root);
  // upper-case hex, one digit short, one too many, not hex
  for (const name of ['ABC111111111', 'abc11111111', 'abc1111111111', 'xyz111111111']) {
    writePod(root, { ...record('abc999999999', `odd-${name}`, 0), id: name });
  }
  assert.equal(listPods(root).map((p) => p.id), [B.id, C.id, A.id]);
}));

test('listPods: a pod being made or removed (no, half-written or unreadable state.json) is skipped', withRoot((root) => {
  populate(root);
  mkdirSync(join(root, '000000000001')); // no state.json yet
  mkdirSync(join(root, '000000000002'));
  writeFileSync(join(root, '000000000002', 'state.json'), JSON.stringify(record('000000000002', 'half', 5)).slice(0, 40));
  mkdirSync(join(root, '000000000003'));
  writeFileSync(join(root, '000000000003', 'state.json'), '');
  mkdirSync(join(root, '000000000004', 'state.json'), { recursive: true }); // EISDIR
  writeFileSync(join(root, '000000000005'), 'a file, not a directory');
  assert.equal(listPods(root).map((p) => p.name), ['db', 'cache', 'web']);
}));

test('unrecordedPodDirs: pod directories with no state.json (a supervisor killed between the two), nothing else', withRoot((root) => {
  populate(root);
  mkdirSync(join(root, '000000000001', 'shm'), { recursive: true });
  mkdirSync(join(root, 'not-a-pod-id'));
  mkdirSync(join(root, '000000000004', 'state.json'), { recursive: true }); // a state.json, if a strange one: not this case
  assert.equal(unrecordedPodDirs(root), [join(root, '000000000001')]);
  assert.equal(unrecordedPodDirs(join(root, 'missing')), []);
}));

test('findPod: by exact name', withRoot((root) => {
  populate(root);
  assert.equal(findPod(root, 'web'), A);
  assert.equal(findPod(root, 'db'), B);
  assert.is(minipodError(() => findPod(root, 'we')), `no pod "we" in ${root}`, 'a name is never matched by prefix');
}));

test('findPod: by full id', withRoot((root) => {
  populate(root);
  assert.equal(findPod(root, A.id), A);
  assert.equal(findPod(root, C.id), C);
}));

test('findPod: by a unique id prefix of three characters or more', withRoot((root) => {
  populate(root);
  assert.equal(findPod(root, 'def'), C);
  assert.equal(findPod(root, 'abc1'), A);
  assert.equal(findPod(root, 'abc2222'), B);
}));

test('findPod: a unique prefix shorter than three characters is not enough', withRoot((root) => {
  populate(root);
  assert.is(minipodError(() => findPod(root, 'de')), `no pod "de" in ${root}`);
  assert.is(minipodError(() => findPod(root, 'd')), `no pod "d" in ${root}`);
}));

test('findPod: a prefix shorter than three characters is not looked up at all, even when it matches several', withRoot((root) => {
  populate(root);
  const short = listPods(root)[0]!.id.slice(0, 1);
  assert.is(minipodError(() => findPod(root, short)), `no pod "${short}" in ${root}`);
}));

test('findPod: an ambiguous prefix names every id it matches', withRoot((root) => {
  populate(root);
  assert.is(minipodError(() => findPod(root, 'abc')), `pod id prefix "abc" is ambiguous: ${B.id}, ${A.id}`);
}));

test('findPod: an unknown pod names the state root', withRoot((root) => {
  populate(root);
  assert.is(minipodError(() => findPod(root, 'x')), `no pod "x" in ${root}`);
  assert.is(minipodError(() => findPod(root, 'abc3')), `no pod "abc3" in ${root}`);
  assert.is(minipodError(() => findPod(root, 'logs')), `no pod "logs" in ${root}`);
}));

test('findPod: with no pods at all', withRoot((root) => {
  assert.is(minipodError(() => findPod(root, 'web')), `no pod "web" in ${root}`);
}));

test("findPod: a name wins over another pod's id prefix", withRoot((root) => {
  populate(root);
  const named = record('fff444444444', 'def', 4000);
  writePod(root, named);
  assert.equal(findPod(root, 'def'), named);
  assert.equal(findPod(root, 'def3'), C);
}));

test('removeLogs: the pod log directory, and the logs root only once it is empty', withRoot((root) => {
  const logs = logsRoot(root);
  assert.is(logs, join(root, 'logs'));
  const web = join(logs, 'default_web_1');
  const db = join(logs, 'default_db_2');
  for (const dir of [web, db]) {
    mkdirSync(join(dir, 'app'), { recursive: true });
    writeFileSync(join(dir, 'app', '0.log'), 'line\n');
  }
  removeLogs(root, web);
  assert.not.ok(existsSync(web));
  assert.ok(existsSync(join(db, 'app', '0.log')), "another pod's logs stay");
  assert.ok(existsSync(logs));
  removeLogs(root, db);
  assert.not.ok(existsSync(db));
  assert.not.ok(existsSync(logs), 'the last one out removes the logs root');
  assert.ok(existsSync(root), 'the state root stays');
}));

test('removeLogs: a log directory or logs root already gone is fine', withRoot((root) => {
  removeLogs(root, join(logsRoot(root), 'default_web_1'));
  assert.not.ok(existsSync(logsRoot(root)));
  mkdirSync(logsRoot(root));
  writeFileSync(join(logsRoot(root), 'stray'), '');
  removeLogs(root, join(logsRoot(root), 'default_web_1'));
  assert.ok(existsSync(logsRoot(root)), 'a logs root that is not empty stays');
}));

test.run();
