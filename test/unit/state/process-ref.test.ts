// processRef and isAlive: a process is named by its pid and its start time,
// so that neither a reused pid nor a zombie waiting to be reaped counts as
// the process that ran.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, processRef } from '../../../lib/state/process-ref.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** State (field 3) and start time (field 22) of /proc/PID/stat, read here independently. */
function stat(pid: number | 'self'): { state: string; startTime: string } {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: fields[19]! };
}

async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

test("processRef(own pid) has this process's start time", () => {
  const ref = processRef(process.pid);
  assert.equal(ref, { pid: process.pid, startTime: stat('self').startTime });
  assert.match(ref.startTime, /^\d+$/);
});

test('isAlive: true for this process', () => {
  assert.ok(isAlive(processRef(process.pid)));
  assert.ok(isAlive({ pid: process.pid, startTime: stat('self').startTime }));
});

test('isAlive: false for null', () => {
  assert.is(isAlive(null), false);
});

test('isAlive: false for a live pid with another start time (the pid was reused)', () => {
  const real = Number(stat('self').startTime);
  assert.is(isAlive({ pid: process.pid, startTime: String(real + 1) }), false);
  assert.is(isAlive({ pid: process.pid, startTime: String(real - 1) }), false);
  assert.is(isAlive({ pid: process.pid, startTime: '' }), false);
});

test('a gone pid: processRef has an empty start time, isAlive is false whatever the ref says', async () => {
  const pid = await deadPid();
  assert.not.ok(existsSync(`/proc/${pid}`));
  assert.equal(processRef(pid), { pid, startTime: '' });
  assert.is(isAlive(processRef(pid)), false, 'an empty start time does not match a missing process');
  assert.is(isAlive({ pid, startTime: '12345' }), false);
  assert.is(isAlive({ pid: 0x3fffffff, startTime: '' }), false, 'a pid above pid_max');
});

test('a child: alive while it runs, not once it is gone', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    const ref = processRef(child.pid!);
    assert.is(ref.pid, child.pid);
    assert.match(ref.startTime, /^\d+$/);
    assert.is(ref.startTime, stat(child.pid!).startTime);
    assert.ok(isAlive(ref));
    await stop(child);
    assert.is(isAlive(ref), false);
  } finally {
    await stop(child);
  }
});

test('a zombie (exited, not reaped) is not alive although /proc/PID is still there', async () => {
  // `sleep 0.1` is a child of the shell, which then becomes `sleep 1`: that
  // never waits, so the inner sleep stays a zombie until the outer one ends.
  const outer = spawn('sh', ['-c', 'sleep 0.1 & exec sleep 1'], { stdio: 'ignore' });
  try {
    await once(outer, 'spawn');
    let zombie: number | undefined;
    let startTime = '';
    for (let i = 0; i < 40 && zombie === undefined; i++) {
      await sleep(50);
      const children = readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      for (const pid of children) {
        const s = stat(pid);
        if (s.state === 'Z') {
          zombie = pid;
          startTime = s.startTime;
        }
      }
    }
    assert.ok(zombie !== undefined, 'the inner sleep became a zombie');
    assert.ok(existsSync(`/proc/${zombie}`), '/proc/PID of the zombie exists');
    assert.is(stat(zombie).state, 'Z');
    assert.match(startTime, /^\d+$/);
    assert.is(isAlive({ pid: zombie, startTime }), false, 'a zombie with its real start time is gone');
    assert.equal(processRef(zombie), { pid: zombie, startTime: '' });
    assert.ok(isAlive(processRef(outer.pid!)), 'its parent still runs');
  } finally {
    await stop(outer);
  }
});

test("a command name holding ') ' and spaces does not shift the fields", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipod-ref-'));
  const odd = join(dir, 'a) b c');
  copyFileSync('/bin/sleep', odd);
  const { chmodSync } = await import('node:fs');
  chmodSync(odd, 0o755);
  const child = spawn(odd, ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    await sleep(50); // until the exec has renamed it
    const text = readFileSync(`/proc/${child.pid}/stat`, 'latin1');
    assert.ok(text.includes('(a) b c)'), text);
    const ref = processRef(child.pid!);
    assert.match(ref.startTime, /^\d+$/);
    // knowing the name, cut it off where it ends: field 3 onwards
    const rest = text.slice(text.indexOf('(a) b c)') + '(a) b c) '.length).split(' ');
    assert.is(ref.startTime, rest[19]);
    assert.ok(isAlive(ref));
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
