import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { hostDir, linesOf, type Scratch } from '../helpers/cli.ts';

const { test, run } = kernelSuite('securityContext: users, groups, runAsNonRoot, a read-only root, capabilities');

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const busybox = join(repo, 'images/busybox/rootfs');

interface Container {
  name: string;
  script: string;
  securityContext?: object;
  workingDir?: string;
  image?: string;
  volumeMounts?: object[];
}

/** A pod of busybox containers running `sh -c SCRIPT`, each with its own securityContext. */
function securePod(name: string, containers: Container[], spec: Record<string, unknown> = {}, initContainers: Container[] = []) {
  const toSpec = ({ script, ...c }: Container) => ({ image: 'busybox', command: ['sh', '-c', script], ...c });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', ...spec, initContainers: initContainers.map(toSpec), containers: containers.map(toSpec) },
  };
}

/** A hostPath directory a container touches a file in when it runs: to prove that nothing ran. */
function marker(scratch: Scratch) {
  const { dir, volume, mount } = hostDir(scratch, 'marker');
  return { volume, mount, ran: () => readdirSync(dir) };
}

const stateLeft = (scratch: Scratch) => (existsSync(scratch.root) ? readdirSync(scratch.root) : []);

test('runAsUser, runAsGroup and supplementalGroups: the process has exactly those ids', async ({ scratch }) => {
  const file = scratch.manifest('ids.json', securePod('ids', [
    { name: 'c', script: 'id; id -G; grep -E "^(Uid|Gid|Groups):" /proc/self/status | tr -s "\\t " " "' },
  ], { securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] } }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), [
    'uid=1000 gid=3000 groups=3000,4000',
    '3000 4000',
    'Uid: 1000 1000 1000 1000',
    'Gid: 3000 3000 3000 3000',
    'Groups: 3000 4000 ',
  ]);
});

test('runAsUser without runAsGroup takes the gid of the image\'s /etc/passwd entry, else 0', async ({ scratch }) => {
  const file = scratch.manifest('gid.json', securePod('gid', [
    { name: 'nobody', script: 'id', securityContext: { runAsUser: 65534 } },
    { name: 'unknown', script: 'id', securityContext: { runAsUser: 1234 } },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'nobody'), ['uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)']);
  assert.equal(linesOf(r.stdout, 'unknown'), ['uid=1234 gid=0(root) groups=0(root)']);
});

test('groups: the primary gid, then the user\'s memberships in the image\'s /etc/group, then supplementalGroups', async ({ scratch }) => {
  // A copy of busybox with a user `app` (uid 1000, gid 3000) who is a member of `dev`.
  const img = join(scratch.dir, 'img');
  await execa('cp', ['-a', busybox, img]);
  writeFileSync(join(img, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:3000:app:/home/app:/bin/sh\n');
  writeFileSync(join(img, 'etc/group'), 'root:x:0:\napp:x:3000:\ndev:x:3500:someone,app\nother:x:3600:someone\n');
  const file = scratch.manifest('groups.json', securePod('groups', [
    { name: 'c', image: img, script: 'id; id -G' },
    { name: 'g', image: img, script: 'id -G', securityContext: { runAsGroup: 3900 } },
  ], { securityContext: { runAsUser: 1000, supplementalGroups: [4000] } }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['uid=1000(app) gid=3000(app) groups=3000(app),3500(dev),4000', '3000 3500 4000']);
  assert.equal(linesOf(r.stdout, 'g'), ['3900 3500 4000'], 'runAsGroup replaces the primary group, the memberships stay');
});

test('the container\'s securityContext wins over the pod\'s, field by field; init containers take the pod\'s', async ({ scratch }) => {
  const file = scratch.manifest('override.json', securePod('override', [
    { name: 'user', script: 'id', securityContext: { runAsUser: 2000 } },
    { name: 'group', script: 'id', securityContext: { runAsGroup: 5000 } },
    { name: 'pod', script: 'id' },
  ], { securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] } }, [
    { name: 'init', script: 'id' },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'init'), ['uid=1000 gid=3000 groups=3000,4000']);
  assert.equal(linesOf(r.stdout, 'user'), ['uid=2000 gid=3000 groups=3000,4000']);
  // The kernel keeps supplementary groups sorted.
  assert.equal(linesOf(r.stdout, 'group'), ['uid=1000 gid=5000 groups=4000,5000']);
  assert.equal(linesOf(r.stdout, 'pod'), ['uid=1000 gid=3000 groups=3000,4000']);
});

test('runAsNonRoot with an image running as root: exit 125, nothing started, nothing left', async ({ scratch }) => {
  const m = marker(scratch);
  const file = scratch.manifest('nonroot.json', securePod('nonroot', [
    { name: 'fine', script: 'touch /marker/fine', securityContext: { runAsUser: 1000 }, volumeMounts: [m.mount] },
    { name: 'c', script: 'touch /marker/c', volumeMounts: [m.mount] },
  ], { securityContext: { runAsNonRoot: true }, volumes: [m.volume] }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 125, r.all);
  assert.is(r.stdout, '');
  assert.is(r.stderr.split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^minipod: /);
  assert.match(r.stderr, 'container has runAsNonRoot and image will run as root');
  assert.match(r.stderr, 'spec.containers[1]');
  assert.equal(m.ran(), [], 'no container ran, not even the one that would have passed');
  assert.equal(stateLeft(scratch), []);
});

test('runAsNonRoot: runAsUser 0 breaks the policy, runAsUser 1000 runs', async ({ scratch }) => {
  const m = marker(scratch);
  const root = scratch.manifest('zero.json', securePod('zero', [
    { name: 'c', script: 'touch /marker/c', securityContext: { runAsNonRoot: true, runAsUser: 0 }, volumeMounts: [m.mount] },
  ], { volumes: [m.volume] }));
  const refused = await scratch.minipod(['run', root]);
  assert.is(refused.exitCode, 125, refused.all);
  assert.is(refused.stderr.split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /^minipod: .*container's runAsUser breaks non-root policy/);
  assert.equal(m.ran(), []);
  assert.equal(stateLeft(scratch), []);

  const user = scratch.manifest('user.json', securePod('user', [
    { name: 'c', script: 'id -u', securityContext: { runAsNonRoot: true, runAsUser: 1000 } },
  ]));
  const allowed = await scratch.minipod(['run', user]);
  assert.is(allowed.exitCode, 0, allowed.all);
  assert.equal(linesOf(allowed.stdout, 'c'), ['1000']);
});

test('runAsNonRoot: an init container breaking it stops the pod before anything starts; a container may turn it off', async ({ scratch }) => {
  const m = marker(scratch);
  const broken = scratch.manifest('init.json', securePod('init', [
    { name: 'app', script: 'touch /marker/app', securityContext: { runAsUser: 1000 }, volumeMounts: [m.mount] },
  ], { securityContext: { runAsNonRoot: true }, volumes: [m.volume] }, [
    { name: 'setup', script: 'touch /marker/setup', volumeMounts: [m.mount] },
  ]));
  const r = await scratch.minipod(['run', broken]);
  assert.is(r.exitCode, 125, r.all);
  assert.match(r.stderr, /^minipod: spec\.initContainers\[0\]: container has runAsNonRoot and image will run as root/);
  assert.equal(m.ran(), []);
  assert.equal(stateLeft(scratch), []);

  const off = scratch.manifest('off.json', securePod('off', [
    { name: 'c', script: 'id -u', securityContext: { runAsNonRoot: false } },
  ], { securityContext: { runAsNonRoot: true } }));
  const ok = await scratch.minipod(['run', off]);
  assert.is(ok.exitCode, 0, ok.all);
  assert.equal(linesOf(ok.stdout, 'c'), ['0'], 'the container\'s runAsNonRoot: false wins over the pod\'s true');
});

test('readOnlyRootFilesystem: the root (/tmp included) is read-only; /dev, /dev/shm and volumes stay writable', async ({ scratch }) => {
  const file = scratch.manifest('ro.json', securePod('ro', [
    {
      name: 'ro',
      securityContext: { readOnlyRootFilesystem: true },
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      script: [
        'touch /x',
        'echo data > /tmp/x',
        'touch /dev/shm/x && echo shm-writable',
        'touch /dev/x && echo dev-writable',
        'echo kept > /scratch/x && cat /scratch/x',
        'true',
      ].join('; '),
    },
    { name: 'rw', script: 'touch /x && echo root-writable' },
  ], { volumes: [{ name: 'scratch', emptyDir: {} }] }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stderr, 'ro'), ['touch: /x: Read-only file system', 'sh: can\'t create /tmp/x: Read-only file system']);
  assert.equal(linesOf(r.stdout, 'ro'), ['shm-writable', 'dev-writable', 'kept']);
  assert.equal(linesOf(r.stdout, 'rw'), ['root-writable'], 'only the container that asked for it');
});

/**
 * build/minipod-init, alone, in a root of its own: a bind of the busybox
 * image (with the helper bound onto its /etc/passwd, a file every image
 * has) in a mount namespace of its own, after `setup` (sh, the root as $3),
 * chrooted there and run with `args`. `before` runs first, in bash.
 */
function helperInRoot(scratch: Scratch, setup: string, args: string[], before = '') {
  const root = join(scratch.dir, 'root');
  mkdirSync(root);
  const inner = 'mount --bind "$1" "$3" && mount --bind "$2" "$3/etc/passwd" && eval "$4" && root=$3 && shift 4 && exec chroot "$root" /etc/passwd "$@"';
  const script = `${before}exec unshare -m --propagation private sh -c '${inner}' sh "$@"`;
  return execa('bash', ['-c', script, 'bash', busybox, join(repo, 'build/minipod-init'), root, setup, ...args], { reject: false });
}

// CVE-2024-21626: a working directory reached through a descriptor of the
// host's starts the app outside its root. However it got there, the helper
// checks after chdir, as runc does, that getcwd() is inside the root.
test("the helper refuses a working directory outside the container's root (through an inherited /proc/self/fd/N)", async ({ scratch }) => {
  // fd 7: the host's /tmp.
  const r = await helperInRoot(scratch, 'mount -t proc proc "$3/proc"', ['-w', '/proc/self/fd/7', '--', '/bin/pwd'], 'exec 7</tmp; ');
  assert.equal([r.exitCode, r.stdout, r.stderr], [125, '', 'chdir to cwd ("/proc/self/fd/7") set in config: the directory is outside the container\'s root']);
});

// The helper masks a file by binding /dev/null over it, as the container
// sees /dev/null: the runtime's own device there (lib/rootfs), which a
// container cannot replace before its helper runs, so the check that it
// is the null device (1:3) is a defence; here /dev is faked.
test('the helper masks a file only with the real null device: /dev/null as a regular file or as another device is refused', async ({ scratch }) => {
  const mask = (makeNull: string) => helperInRoot(scratch, `mount -t tmpfs tmpfs "$3/dev" && ${makeNull}`, ['-k', '/etc/group', '--', '/bin/cat', '/etc/group']);
  for (const fake of ['echo secret > "$3/dev/null"', 'mknod "$3/dev/null" c 1 5']) {
    const r = await mask(fake);
    assert.equal([r.exitCode, r.stdout, r.stderr], [125, '', 'mask /etc/group: /dev/null is not the null device'], fake);
    rmSync(join(scratch.dir, 'root'), { recursive: true });
  }
  const real = await mask('mknod "$3/dev/null" c 1 3');
  assert.equal([real.exitCode, real.stdout, real.stderr], [0, '', ''], 'the real one masks it: empty');
});

test('a missing workingDir is created, also before the root turns read-only', async ({ scratch }) => {
  const file = scratch.manifest('wd.json', securePod('wd', [
    { name: 'plain', workingDir: '/new/dir', script: 'pwd; stat -c "%a %U" .' },
    { name: 'ro', workingDir: '/srv/app/work', securityContext: { readOnlyRootFilesystem: true }, script: 'pwd; touch here' },
    { name: 'user', workingDir: '/var/lib/made', securityContext: { runAsUser: 1000 }, script: 'pwd' },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 1, r.all); // `touch here` in the read-only root
  assert.equal(linesOf(r.stdout, 'plain'), ['/new/dir', '755 root']);
  assert.equal(linesOf(r.stdout, 'ro'), ['/srv/app/work']);
  assert.equal(linesOf(r.stderr, 'ro'), ['touch: here: Read-only file system']);
  assert.equal(linesOf(r.stdout, 'user'), ['/var/lib/made']);
  for (const dir of ['new', 'srv', 'var/lib/made']) assert.not.ok(existsSync(join(busybox, dir)), `not made in the image: /${dir}`);
});

test('a non-root user has no capabilities; root keeps its own', async ({ scratch }) => {
  const caps = 'grep -E "^Cap(Prm|Eff|Amb):" /proc/self/status | tr -s "\\t" " "';
  const file = scratch.manifest('caps.json', securePod('caps', [
    { name: 'user', script: `${caps}; echo probe > /tmp/p; chown 0:0 /tmp/p 2>&1; true`, securityContext: { runAsUser: 1000 } },
    { name: 'root', script: 'grep "^CapEff:" /proc/self/status | cut -f2' },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'user'), [
    'CapPrm: 0000000000000000',
    'CapEff: 0000000000000000',
    'CapAmb: 0000000000000000',
    'chown: /tmp/p: Operation not permitted',
  ]);
  const [rootCaps] = linesOf(r.stdout, 'root');
  assert.match(rootCaps!, /^[0-9a-f]{16}$/);
  assert.is.not(rootCaps, '0000000000000000', 'root in the container still has capabilities');
});

test('a non-root user writes to an emptyDir (0777) as itself, but not to the image\'s root-owned files', async ({ scratch }) => {
  const file = scratch.manifest('write.json', securePod('write', [{
    name: 'c',
    securityContext: { runAsUser: 1000, runAsGroup: 3000 },
    volumeMounts: [{ name: 'v', mountPath: '/v' }],
    script: 'echo mine > /v/f && stat -c "%u:%g %a" /v/f; touch /etc/x; true',
  }], { volumes: [{ name: 'v', emptyDir: {} }] }));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['1000:3000 644']);
  assert.equal(linesOf(r.stderr, 'c'), ['touch: /etc/x: Permission denied']);
});

run();
