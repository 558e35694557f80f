// minipod exec (issue #5): a command in a running container's namespaces,
// cgroups, user, working directory and environment; -i and -t.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { cliCommand, type Scratch, waitFor } from '../helpers/cli.ts';

const { test, run } = kernelSuite('exec: into a running container');

/** A detached pod of one container `app` sleeping, with a hostname, a user, a working directory, an env var. */
async function runningPod(scratch: Scratch, spec: Record<string, unknown> = {}): Promise<string> {
  const file = scratch.manifest('ex.json', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'ex' },
    spec: {
      hostname: 'exhost',
      terminationGracePeriodSeconds: 1,
      ...spec,
      containers: [{
        name: 'app', image: 'busybox', command: ['sleep', '60'], workingDir: '/work',
        env: [{ name: 'GREETING', value: 'hi' }], securityContext: { runAsUser: 1000, runAsGroup: 2000 },
      }],
    },
  });
  const r = await scratch.minipod(['run', '-d', file]);
  assert.is(r.exitCode, 0, r.all);
  return r.stdout.trim();
}

/** Stops and removes the pod, and waits for the shared supervisor to exit (it takes its socket and its empty log with it). */
async function remove(scratch: Scratch): Promise<void> {
  const r = await scratch.minipod(['rm', '-f', 'ex']);
  assert.is(r.exitCode, 0, r.all);
  const left = () => (existsSync(scratch.root) ? readdirSync(scratch.root).filter((n) => n.startsWith('supervisor.')) : []);
  await waitFor(() => (left().length === 0 ? true : undefined), `the supervisor to exit (left: ${left().join(', ')})`, 5000);
}

function state(scratch: Scratch, id: string) {
  return JSON.parse(readFileSync(`${scratch.root}/${id}/state.json`, 'utf8'));
}

test("exec runs in the container's namespaces, cgroups, user, working directory and environment", async ({ scratch }) => {
  const id = await runningPod(scratch);
  try {
    const script = 'hostname; id -u; id -g; pwd; echo $GREETING; for n in net ipc uts pid mnt; do readlink /proc/self/ns/$n; done; ls /work >/dev/null && echo rootfs; grep memory /proc/self/cgroup';
    const r = await scratch.minipod(['exec', 'ex', 'app', '--', 'sh', '-c', script]);
    assert.is(r.exitCode, 0, r.all);
    const pid = state(scratch, id).containers[0].process.pid;
    const ns = ['net', 'ipc', 'uts', 'pid', 'mnt'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`));
    const lines = r.stdout.split('\n');
    assert.equal(lines.slice(0, 10), ['exhost', '1000', '2000', '/work', 'hi', ...ns]);
    assert.is(lines[10], 'rootfs');
    assert.match(lines[11]!, new RegExp(`/minipod/${id}/app$`), 'in the container cgroup');
  } finally {
    await remove(scratch);
  }
});

test("exec sees the container's processes: its PID namespace, the app as PID 1", async ({ scratch }) => {
  await runningPod(scratch);
  try {
    const r = await scratch.minipod(['exec', 'ex', 'app', '--', 'ps', '-o', 'pid,comm']);
    assert.is(r.exitCode, 0, r.all);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    assert.equal(rows[0], ['1', 'sleep']);
    assert.ok(rows.some(([, comm]) => comm === 'ps'));
    assert.is(rows.length, 2, r.stdout);
  } finally {
    await remove(scratch);
  }
});

test("exec's exit code is the command's; 127 for a command that is not there, with exec's message", async ({ scratch }) => {
  await runningPod(scratch);
  try {
    const seven = await scratch.minipod(['exec', 'ex', 'app', '--', 'sh', '-c', 'exit 7']);
    assert.is(seven.exitCode, 7, seven.all);
    const missing = await scratch.minipod(['exec', 'ex', 'app', '--', 'no-such-command']);
    assert.is(missing.exitCode, 127, missing.all);
    assert.match(missing.stderr, 'exec: "no-such-command": executable file not found in $PATH');
  } finally {
    await remove(scratch);
  }
});

test('exec -i passes stdin; without -i the command reads nothing', async ({ scratch }) => {
  await runningPod(scratch);
  try {
    const [cmd, pre] = cliCommand;
    const args = [...pre, '--root', scratch.root, 'exec'];
    const withStdin = await execa(cmd, [...args, '-i', 'ex', 'app', '--', 'cat'], { input: 'hello\nworld\n', reject: false });
    assert.is(withStdin.stdout, 'hello\nworld', withStdin.stderr);
    const without = await execa(cmd, [...args, 'ex', 'app', '--', 'cat'], { input: 'ignored\n', reject: false });
    assert.equal([without.exitCode, without.stdout], [0, '']);
  } finally {
    await remove(scratch);
  }
});

// Issue #6: the runtime joins the container's mount namespace before it
// forks, so whatever it opens by path then is the container's file: a FIFO
// in place of /dev/null would hold it (an open for reading waits for a
// writer). Nothing may be looked up there by the runtime.
test('exec (with and without -t) completes though the container replaced its /dev/null with a FIFO', async ({ scratch }) => {
  const file = scratch.manifest('ex.json', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ex' },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'rm /dev/null && mkfifo /dev/null && exec sleep 60'] }] },
  });
  const r = await scratch.minipod(['run', '-d', file]);
  assert.is(r.exitCode, 0, r.all);
  try {
    const pid = state(scratch, r.stdout.trim()).containers[0].process.pid;
    await waitFor(() => (statSync(`/proc/${pid}/root/dev/null`).isFIFO() || undefined), 'the FIFO in place of /dev/null');
    const e = await scratch.minipod(['exec', 'ex', 'app', '--', 'true'], { timeout: 5000 });
    assert.equal([e.exitCode, e.timedOut, e.all], [0, false, '']);
    // -t too, from a terminal of script(1)'s.
    const [cmd, pre] = cliCommand;
    const inner = [cmd, ...pre, '--root', scratch.root, 'exec', '-t', 'ex', 'app', '--', 'true'].join(' ');
    const t = await execa('script', ['-qec', inner, '/dev/null'], { reject: false, timeout: 5000 });
    assert.equal([t.exitCode, t.timedOut], [0, false], t.all);
  } finally {
    await remove(scratch);
  }
});

test('exec -t through a real pseudo-terminal: stty size shows the size set on the outer terminal', async ({ scratch }) => {
  await runningPod(scratch);
  try {
    const [cmd, pre] = cliCommand;
    const inner = [cmd, ...pre, '--root', scratch.root, 'exec', '-t', 'ex', 'app', '--', 'sh', '-c', "'stty size; tty'"].join(' ');
    // script(1) gives the CLI a terminal of its own; its size is set first, minipod forwards it.
    const r = await execa('script', ['-qec', `stty rows 42 cols 117; ${inner}`, '/dev/null'], { reject: false });
    assert.is(r.exitCode, 0, r.all);
    // Deno paints (and clears) a progress line on a terminal: only the command's output counts.
    const lines = r.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replaceAll('\r', '').trim().split('\n');
    assert.equal(lines[0], '42 117');
    assert.match(lines[1]!, /^\/dev\/pts\/\d+$/, 'a terminal inside the container');
  } finally {
    await remove(scratch);
  }
});

test('exec -it forwards a change of the outer terminal\'s size (TIOCSWINSZ, then SIGWINCH): stty size inside sees the new one', async ({ scratch }) => {
  await runningPod(scratch);
  try {
    const [cmd, pre] = cliCommand;
    const tty = `${scratch.dir}/tty`;
    const pid = `${scratch.dir}/pid`;
    const inner = [cmd, ...pre, '--root', scratch.root, 'exec', '-it', 'ex', 'app', '--', 'sh', '-c', "'stty size; read line; stty size'"].join(' ');
    // script(1)'s terminal, which the test resizes from outside as a terminal emulator would; minipod is exec'd, so it keeps this shell's pid.
    const outer = execa('script', ['-qec', `stty rows 42 cols 117; tty > ${tty}; echo $$ > ${pid}; exec ${inner}`, '/dev/null'], { reject: false });
    let seen = '';
    outer.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', '')));
    await waitFor(() => (seen.includes('42 117\n') ? true : undefined), `the first stty size (seen: ${JSON.stringify(seen)})`);
    await execa('stty', ['-F', readFileSync(tty, 'utf8').trim(), 'rows', '50', 'cols', '90']);
    process.kill(Number(readFileSync(pid, 'utf8')), 'SIGWINCH');
    await new Promise((resolve) => setTimeout(resolve, 300));
    outer.stdin!.write('\n');
    const r = await outer;
    assert.is(r.exitCode, 0, r.all);
    const sizes = seen.split('\n').filter((l) => /^\d+ \d+$/.test(l));
    assert.equal(sizes, ['42 117', '50 90'], `the size before and after the change: ${JSON.stringify(seen)}`);
  } finally {
    await remove(scratch);
  }
});

test('exec into a pod that is not there, or a container that is not running, fails with a reason', async ({ scratch }) => {
  const none = await scratch.minipod(['exec', 'nope', 'app', '--', 'true']);
  assert.is(none.exitCode, 125);
  assert.match(none.stderr, /^minipod: no pod "nope" in /);
  await runningPod(scratch);
  try {
    const wrong = await scratch.minipod(['exec', 'ex', 'other', '--', 'true']);
    assert.equal([wrong.exitCode, wrong.stderr], [125, 'minipod: container other is not valid for pod ex']);
  } finally {
    await remove(scratch);
  }
});

run();
