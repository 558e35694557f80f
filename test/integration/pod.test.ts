import { existsSync, readlinkSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { MASKED_PATHS, READONLY_PATHS } from '../../lib/security/paths.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { linesOf, pod } from '../helpers/cli.ts';

const { test, run } = kernelSuite('a pod: one sandbox, containers joined into it');

// Both stay alive while the other reads its links: the kernel reuses a freed
// namespace's inode number, so two short-lived containers could look alike.
const NS = 'for n in net ipc uts mnt pid; do echo "$n $(readlink /proc/self/ns/$n)"; done; sleep 0.5';

function namespaces(lines: string[]): Record<string, string> {
  return Object.fromEntries(lines.filter((l) => /^(net|ipc|uts|mnt|pid) /.test(l)).map((l) => l.split(' ') as [string, string]));
}

test('two containers share net, ipc and uts with each other and not with the host; each has its own mnt', async ({ scratch }) => {
  const file = scratch.manifest('pod.json', pod('two', { a: NS, b: NS }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const a = namespaces(linesOf(r.stdout, 'a'));
  const b = namespaces(linesOf(r.stdout, 'b'));
  const host = (n: string) => readlinkSync(`/proc/self/ns/${n}`);
  for (const n of ['net', 'ipc', 'uts']) {
    assert.ok(a[n], `container a printed its ${n} namespace`);
    assert.is(a[n], b[n], `${n} is shared`);
    assert.is.not(a[n], host(n), `${n} is not the host's`);
  }
  assert.is.not(a.mnt, b.mnt, 'each container has its own mount namespace');
  assert.is.not(a.mnt, host('mnt'));
  assert.is.not(a.pid, b.pid, 'without shareProcessNamespace each container has its own PID namespace');
});

test('the hostname is metadata.name, or spec.hostname when set', async ({ scratch }) => {
  const byName = await scratch.minipod(['run', scratch.manifest('a.json', pod('named-pod', { c: 'hostname' }))]);
  assert.equal(linesOf(byName.stdout, 'c'), ['named-pod'], byName.all);
  const explicit = await scratch.minipod(['run', scratch.manifest('b.json', pod('named-pod', { c: 'hostname' }, { hostname: 'web-0' }))]);
  assert.equal(linesOf(explicit.stdout, 'c'), ['web-0'], explicit.all);
});

test('one container serves HTTP on 127.0.0.1, the other fetches it over the pod loopback', async ({ scratch }) => {
  const file = scratch.manifest('http.json', pod('http', {
    web: 'echo pod-page > /tmp/index.html; httpd -f -p 127.0.0.1:8080 -h /tmp & sleep 3; kill %1',
    client: 'until wget -q -O - http://127.0.0.1:8080/index.html; do sleep 0.05; done',
  }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'client'), ['pod-page']);
});

test('the host cannot reach the pod: its loopback is its own', async ({ scratch }) => {
  // The same port on the host's loopback stays closed while the pod listens on it.
  const file = scratch.manifest('lo.json', pod('lo', {
    web: 'httpd -f -p 127.0.0.1:18089 -h /tmp & sleep 1; kill %1',
  }));
  const running = scratch.minipod(['run', file]);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const { createConnection } = await import('node:net');
  const reached = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: 18089 });
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
  assert.is(reached, false);
  assert.is((await running).exitCode, 0);
});

test('/dev/shm is one tmpfs per pod: a file written by one container is read by the other', async ({ scratch }) => {
  const file = scratch.manifest('shm.json', pod('shm', {
    writer: 'echo shared-memory > /dev/shm/note',
    reader: 'until [ -f /dev/shm/note ]; do sleep 0.05; done; cat /dev/shm/note; grep " /dev/shm " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1',
  }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'reader'), ['shared-memory', 'tmpfs']);
});

test('the container sees its image as / with /proc, a minimal /dev and a read-only /sys; the host tree is gone', async ({ scratch }) => {
  const file = scratch.manifest('fs.json', pod('fs', {
    c: [
      'ls /dev | tr "\\n" " "; echo',
      'grep -c . /proc/self/mountinfo',
      'touch /sys/x 2>/dev/null && echo sys-writable || echo sys-readonly',
      'echo x > /dev/null && head -c 4 /dev/zero | wc -c',
      'ls /work 2>/dev/null || echo no-host-paths',
      'cat /proc/1/cmdline | tr "\\0" " "; echo',
    ].join('; '),
  }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  const [devs, mounts, sys, zero, host, init] = linesOf(r.stdout, 'c');
  assert.equal(devs!.trim().split(' ').sort(), ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  // And one over each masked or read-only path of /proc and /sys that this kernel has.
  const guarded = [...MASKED_PATHS, ...READONLY_PATHS].filter((p) => existsSync(p)).length;
  assert.is(mounts, String(7 + guarded), 'rootfs, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, /proc, the guarded paths and nothing of the host');
  assert.is(sys, 'sys-readonly');
  assert.is(zero, '4');
  assert.is(host, 'no-host-paths');
  assert.match(init!, /^sh -c /, 'the app is PID 1 of its own PID namespace');
});

test('command, args, env and workingDir come from the manifest; PATH has a default', async ({ scratch }) => {
  const file = scratch.manifest('env.json', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'env' },
    spec: {
      restartPolicy: 'Never',
      containers: [{
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c'],
        args: ['echo "$GREETING from $(pwd)"; echo "$PATH"; echo "$HOSTNAME"'],
        env: [{ name: 'GREETING', value: 'hello' }],
        workingDir: '/tmp',
      }],
    },
  });
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['hello from /tmp', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'env']);
});

test('stdout and stderr keep their streams, each line prefixed with the container name', async ({ scratch }) => {
  const file = scratch.manifest('io.json', pod('io', { c: 'echo out; echo err >&2; printf "no newline"' }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['out', 'no newline']);
  assert.equal(linesOf(r.stderr, 'c'), ['err']);
});

run();
