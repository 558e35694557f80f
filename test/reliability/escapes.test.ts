// Escape attempts from inside a default container (issue #7): no
// securityContext, so Docker's 14 capabilities (CAP_SYS_CHROOT, CAP_KILL,
// CAP_DAC_OVERRIDE... among them), root, the default seccomp filter. Each
// attempt must fail, and where it would have touched the host the test
// checks the host itself. What test/integration already proves is not done
// again: the masked and read-only /proc paths one by one and the filter's
// refusals (privileges.test.ts), the container's view of / and /dev
// (pod.test.ts), symlinks out of volumes (volumes.test.ts).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { listPods } from '../../lib/state/store.ts';
import { commandPod, linesOf, pod, type Scratch, waitFor } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { running, theSupervisor, withSeen } from '../helpers/reliability.ts';

const { test, run } = kernelSuite('escapes: what a default container tries, and fails');

/** Runs `script` in one default busybox container; its stdout lines (stderr merged in). */
async function inside(scratch: Scratch, script: string, spec: Record<string, unknown> = {}): Promise<string[]> {
  // `; true`: sh would otherwise exec the last command in place of itself.
  const r = await scratch.minipod(['run', scratch.manifest('esc.json', pod('esc', { c: `exec 2>&1; ${script}; true` }, spec))]);
  assert.is(r.exitCode, 0, r.all);
  return linesOf(r.stdout, 'c');
}

/** `key value` lines as an object. */
const table = (lines: string[]) => Object.fromEntries(lines.filter((l) => l.includes('=')).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));

test('host processes: /proc and ps show only the container\'s own (sh as PID 1, what it runs); PPid 0, NSpid one level', async ({ scratch }) => {
  const lines = await inside(scratch, [
    'echo "pids=$(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")"',
    // Into a file first: the stages of a pipeline would show as more shells.
    'ps -o pid,comm > /tmp/ps; tr -s " " < /tmp/ps | sed "s/^ //"',
    `cat /proc/${process.pid}/cmdline >/dev/null 2>&1 && echo "host=visible" || echo "host=hidden"`,
    'grep -E "^(PPid|NSpid):" /proc/1/status | tr -d "\\t" | tr ":" "="',
  ].join('; '));
  const seen = table(lines);
  // The subshell, ls, grep and tr of the first line: never more than PID 1 and those.
  const pids = seen.pids!.trim().split(' ').map(Number);
  assert.ok(pids.includes(1) && pids.length <= 5 && pids.every((p) => p < 10), `only the container's processes: ${seen.pids}`);
  const ps = lines.filter((l) => /^\d+ /.test(l));
  assert.is(ps[0], '1 sh', 'PID 1 is the container\'s shell');
  assert.equal(ps.slice(1).map((l) => l.split(' ')[1]), ['ps'], `ps sees the shell and itself, nothing of the host: ${ps.join('; ')}`);
  assert.ok(process.pid >= 10, 'this test runs with a pid the container could not have');
  assert.is(seen.host, 'hidden', `the test process (host pid ${process.pid}) cannot be looked at`);
  assert.equal([seen.PPid, seen.NSpid], ['0', '1'], 'PID 1 has no parent it can see, and knows of no PID namespace above');
});

test('remount / read-write, mount a new proc, unmount /proc/sys, unmount /: all refused; the mount table inside unchanged', async ({ scratch }) => {
  const lines = await inside(scratch, [
    'before=$(cat /proc/self/mountinfo | md5sum)',
    'mkdir -p /tmp/m',
    'mount -o remount,rw / >/dev/null 2>&1; echo "remount-root=$?"',
    'mount -o remount,rw /sys >/dev/null 2>&1; echo "remount-sys=$?"',
    'mount -o remount,rw /proc/sys >/dev/null 2>&1; echo "remount-proc-sys=$?"',
    'mount -t proc proc /tmp/m >/dev/null 2>&1; echo "mount-proc=$?"',
    'mount -t tmpfs t /tmp/m >/dev/null 2>&1; echo "mount-tmpfs=$?"',
    'umount /proc/sys >/dev/null 2>&1; echo "umount-proc-sys=$?"',
    'umount -l / >/dev/null 2>&1; echo "umount-root=$?"',
    '[ "$before" = "$(cat /proc/self/mountinfo | md5sum)" ] && echo "mountinfo=same" || echo "mountinfo=changed"',
  ].join('; '));
  const seen = table(lines);
  for (const what of ['remount-root', 'remount-sys', 'remount-proc-sys', 'mount-proc', 'mount-tmpfs', 'umount-proc-sys', 'umount-root']) {
    assert.ok(seen[what] !== undefined && seen[what] !== '0', `${what} must fail: ${lines.join('; ')}`);
  }
  assert.is(seen.mountinfo, 'same');
});

test('the old root: a canary file made on the host is not reachable by any path — its host path, find over all of /, /proc/*/root, .. from /, chroot', async ({ scratch }) => {
  const name = `minipod-canary-${randomBytes(8).toString('hex')}`;
  const dir = join(scratch.dir, 'canary-dir');
  mkdirSync(dir);
  const canary = join(dir, name);
  writeFileSync(canary, 'host only\n');
  const lines = await inside(scratch, [
    `cat ${canary} >/dev/null 2>&1 && echo "direct=reached" || echo "direct=no"`,
    `echo "find=$(find / -name '${name}*' 2>/dev/null | tr "\\n" " ")"`,
    `echo "proc-root=$(ls /proc/*/root${canary} 2>/dev/null | wc -l)"`,
    `cd /../../../..; [ -e .${canary} ] && echo "dotdot=reached" || echo "dotdot=no"; echo "dotdot-root=$(pwd -P)"`,
    // CAP_SYS_CHROOT is a default capability: a chroot into a subdirectory and back up.
    `mkdir -p /tmp/jail; chroot /tmp/jail /bin/true 2>/dev/null; echo "chroot=$?"`,
    `chroot / sh -c 'cd ../../..; [ -e .${canary} ] && echo "chroot-up=reached" || echo "chroot-up=no"'`,
    // (The root's overlay options name its layers' host paths, as Docker's do; nothing mounts the canary's directory.)
    `echo "mountinfo-host=$(grep -c '${dir}' /proc/self/mountinfo)"`,
  ].join('; '));
  const seen = table(lines);
  assert.equal({
    direct: seen.direct, find: seen.find?.trim(), procRoot: seen['proc-root'], dotdot: seen.dotdot, dotdotRoot: seen['dotdot-root'], chrootUp: seen['chroot-up'], mountinfo: seen['mountinfo-host'],
  }, { direct: 'no', find: '', procRoot: '0', dotdot: 'no', dotdotRoot: '/', chrootUp: 'no', mountinfo: '0' }, lines.join('; '));
  assert.is.not(seen.chroot, '0', 'a chroot into a jail without a /bin/true fails (it is inside the container\'s root)');
  assert.is(readFileSync(canary, 'utf8'), 'host only\n');
});

test('/proc/sys and /proc/sysrq-trigger: writes that would change the host are refused, and the host\'s values stay', async ({ scratch }) => {
  const files = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/modprobe', '/proc/sys/vm/overcommit_memory', '/proc/sys/net/core/somaxconn', '/proc/sys/kernel/hostname'];
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  };
  const host = Object.fromEntries(files.map((f) => [f, read(f)]));
  // On a kernel without sysrq the write to /proc/sysrq-trigger fails all the same: no file can be made in /proc.
  const targets = [...files, '/proc/sysrq-trigger', '/proc/1/root/proc/sys/kernel/core_pattern'];
  const lines = await inside(scratch, targets.map((f) => `(echo 1 > ${f}) 2>/dev/null && echo "${f}=written" || echo "${f}=refused"`).join('; '));
  const seen = table(lines);
  for (const f of targets) assert.is(seen[f], 'refused', `${f}: ${lines.join('; ')}`);
  for (const f of files) assert.is(read(f), host[f], `the host's ${f} is unchanged`);
});

test('descriptors: `ls -l /proc/self/fd` as the container\'s command shows 0, 1, 2 and only its own directory descriptor; none leads to a host file', async ({ scratch }) => {
  // ls exec'd by the runtime directly, as PID 1: its descriptors are what the runtime handed over, plus the
  // one ls opens to read /proc/self/fd (the lowest free one, closed again before ls reads the links).
  const r = await scratch.minipod(['run', scratch.manifest('fds.json', commandPod('fds', ['ls', '-l', '/proc/self/fd']))]);
  assert.is(r.exitCode, 0, r.all);
  const links = linesOf(r.stdout, 'c').filter((l) => l !== 'total 0').map((l) => l.replace(/^.* (\d+)( -> |$)/, '$1$2'));
  assert.is(links[0], '0 -> /dev/null', links.join('; '));
  assert.match(links[1]!, /^1 -> (socket|pipe):\[\d+\]$/, 'stdout leads to the runtime\'s end of a pipe, no file');
  assert.match(links[2]!, /^2 -> (socket|pipe):\[\d+\]$/);
  assert.equal(links.slice(3), ['3'], `one more: fd 3, no longer open when ls reads its link: ${links.join('; ')}`);
  assert.equal(linesOf(r.stderr, 'c'), ['ls: /proc/self/fd/3: cannot read link: No such file or directory'], 'closed, so ls\'s own: a descriptor handed over would still be open');
});

test('signal the supervisor: its host pid (and the pids of another pod) name nothing in the container; kill -9 of them and of -1 fails or hits only the container; all keep running', async ({ scratch }) => {
  await withSeen(scratch, async (seen) => {
    const idle = await scratch.minipod(['run', '-d', scratch.manifest('idle.json', pod('idle', { c: 'trap "exit 0" TERM; sleep 1000 & wait' }, { terminationGracePeriodSeconds: 2 }))]);
    assert.is(idle.exitCode, 0, idle.all);
    const supervisor = await theSupervisor(scratch.root);
    seen.supervisor(supervisor);
    const [record] = listPods(scratch.root);
    seen.pod(record!);
    const targets = { supervisor, pause: record!.pause!.pid, app: record!.containers[0]!.process!.pid };
    // The container is told the host pids: it could not find them itself (its /proc shows only its own processes).
    const manifest = commandPod('attacker', ['sh', '-c', [
      'for p in $SUPERVISOR $PAUSE $APP; do kill -9 $p 2>/dev/null; echo "kill-$p=$?"; done',
      'kill -9 -1 2>/dev/null; echo "kill-all=$?"',
      'echo "ppid=$(grep PPid /proc/1/status | tr -dc 0-9)"',
    ].join('; ')]);
    (manifest.spec.containers[0] as Record<string, unknown>).env = Object.entries(targets).map(([k, v]) => ({ name: k.toUpperCase(), value: String(v) }));
    const r = await scratch.minipod(['run', '-d', scratch.manifest('attacker.json', manifest)]);
    assert.is(r.exitCode, 0, r.all);
    const done = await waitFor(() => listPods(scratch.root).find((p) => p.name === 'attacker' && (p.phase === 'Succeeded' || p.phase === 'Failed')), 'the attacker to finish');
    seen.pod(done);
    const logs = await scratch.minipod(['logs', 'attacker']);
    const out = table(logs.stdout.split('\n'));
    for (const [what, pid] of Object.entries(targets)) {
      assert.ok(pid > 100, `${what}'s host pid ${pid} is no pid in a fresh PID namespace`);
      assert.is(out[`kill-${pid}`], '1', `kill -9 of the ${what} (host pid ${pid}) fails inside: ${logs.stdout}`);
    }
    assert.is(out.ppid, '0', 'the container\'s PID 1 sees no parent');
    assert.is(done.phase, 'Succeeded', 'kill -9 -1 reached no process but its own namespace\'s (the shell survives it, as PID 1)');
    assert.ok(Object.values(targets).every(running), 'the supervisor and the other pod still run');
    assert.is(listPods(scratch.root).find((p) => p.name === 'idle')!.phase, 'Running');
    for (const name of ['attacker', 'idle']) {
      const rm = await scratch.minipod(['rm', '-f', name]);
      assert.is(rm.exitCode, 0, rm.all);
    }
  });
});

test('shareProcessNamespace: kill -9 of the pause (PID 1) from a container does nothing; the pod runs on and ends as it would', async ({ scratch }) => {
  const lines = await inside(scratch, 'kill -9 1; echo "kill=$?"; sleep 0.2; echo "pause=$(cat /proc/1/comm)"; kill -9 -1; echo "alive=yes"', { shareProcessNamespace: true });
  const seen = table(lines);
  assert.equal([seen.kill, seen.pause], ['0', 'pause'], 'the signal is delivered, and ignored: PID 1 of a namespace cannot be killed from inside it');
  assert.is(seen.alive, 'yes', 'kill -9 -1 spares the sender');
});

run();
