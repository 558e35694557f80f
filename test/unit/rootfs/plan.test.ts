import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyRootfs } from '../../../lib/rootfs/apply.ts';
import { DEVICES, planRootfs } from '../../../lib/rootfs/plan.ts';
import {
  MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT, O_CLOEXEC, O_DIRECTORY, O_PATH, RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS, S_IFCHR,
} from '../../../lib/sys/constants.ts';
import { ENOTDIR } from '../../../lib/sys/errno.ts';
import { FakeLibc } from '../../../lib/sys/fake.ts';
import { Libc } from '../../../lib/sys/libc.ts';

const layer = { upper: '/pod/c.0/upper', work: '/pod/c.0/work', merged: '/pod/c.0/rootfs' };
const input = {
  layers: ['/img/rootfs'], layer, missing: [], podShm: '/run/minipod/p1/shm', mounts: [], workingDir: '/srv', readOnlyRootFilesystem: false,
  privileged: false, helperProcfs: '/run/minipod/p1/pause-root',
};
const ops = planRootfs(input);
const R = layer.merged;
/** Every mount, with its target as a path (one inside the root resolved there, through its descriptor, when applied). */
type Mount = { source: string | null; target: string; fstype: string | null; flags: number; data?: string };
const mounts = ops.flatMap((o): Mount[] => (o.op === 'mount' ? [o] : o.op === 'mountIn' ? [{ ...o, target: `${o.root}${o.path}` }] : []));

test("the root is an overlay of the image and the container's own layer: the image is never written", () => {
  assert.equal(ops[0], {
    op: 'mount', source: 'overlay', target: R, fstype: 'overlay', flags: 0,
    data: 'lowerdir=/img/rootfs,upperdir=/pod/c.0/upper,workdir=/pod/c.0/work',
  });
});

test('the lower layers are given topmost first, as overlayfs stacks them', () => {
  const [overlay] = planRootfs({ ...input, layers: ['/s/base/fs', '/s/mid/fs', '/s/top/fs'] });
  assert.is(overlay!.op === 'mount' && overlay!.data, 'lowerdir=/s/top/fs:/s/mid/fs:/s/base/fs,upperdir=/pod/c.0/upper,workdir=/pod/c.0/work');
});

test('layers beyond one page of mount options are named by short links relative to the container directory, as containerd does', () => {
  const layers = Array.from({ length: 120 }, (_, i) => `/var/lib/minipod/images/snapshots/${i.toString(16).padStart(64, '0')}/fs`);
  const ops = planRootfs({ ...input, layers });
  const mount = ops.findIndex((o) => o.op === 'mount');
  assert.equal(ops[0], { op: 'mkdir', path: '/pod/c.0/l', mode: 0o700 });
  assert.equal(ops[1], { op: 'symlink', target: layers[119], path: '/pod/c.0/l/0' });
  assert.equal(ops[120], { op: 'symlink', target: layers[0], path: '/pod/c.0/l/119' });
  assert.equal(ops[mount - 1], { op: 'chdir', path: '/pod/c.0' });
  const data = (ops[mount] as { data: string }).data;
  assert.ok(data.startsWith('lowerdir=l/0:l/1:l/2:'));
  assert.ok(data.endsWith(':l/119,upperdir=upper,workdir=work'));
  assert.ok(data.length < 4096);
});

test('an image with more layers than overlayfs stacks is refused with the limit', () => {
  assert.throws(() => planRootfs({ ...input, layers: Array.from({ length: 501 }, (_, i) => `/s/${i}`) }), /^image has 501 layers; overlayfs stacks at most 500$/);
});

test("overlay options escape the characters overlayfs splits on: an image directory named busybox:1.36", () => {
  const [overlay] = planRootfs({ ...input, layers: ['/images/busybox:1.36/root,fs'] });
  assert.is(overlay!.op === 'mount' && overlay!.data!.split(',upperdir')[0], 'lowerdir=/images/busybox\\:1.36/root\\,fs');
});

test('pivot is last, right after the temporary /proc bind used to exec the helper', () => {
  assert.equal(ops.at(-1), { op: 'pivot', root: R });
  assert.equal(ops.at(-2), { op: 'mountIn', root: R, path: '/proc', source: '/run/minipod/p1/pause-root', fstype: null, flags: MS_BIND });
});

test('every mount target is inside the rootfs', () => {
  for (const m of mounts) assert.ok(m.target.startsWith(R), m.target);
});

test('mount points the image lacks are made in the layer, right after the overlay', () => {
  const withMissing = planRootfs({ ...input, missing: ['proc', 'sys'] });
  assert.equal(withMissing.slice(1, 3), [{ op: 'mkdir', path: `${R}/proc`, mode: 0o755 }, { op: 'mkdir', path: `${R}/sys`, mode: 0o755 }]);
});

test('a minimal /dev: tmpfs, the six devices with their numbers, devpts with its own ptmx, the pod shm, mqueue', () => {
  assert.equal(mounts.map((m) => [m.fstype ?? m.source, m.target]), [
    ['overlay', R],
    ['tmpfs', `${R}/dev`],
    ['devpts', `${R}/dev/pts`],
    ['/run/minipod/p1/shm', `${R}/dev/shm`],
    ['mqueue', `${R}/dev/mqueue`],
    ['sysfs', `${R}/sys`],
    ['/run/minipod/p1/pause-root', `${R}/proc`],
  ]);
  const nodes = ops.filter((o) => o.op === 'mknod');
  assert.equal(nodes.map((n) => n.op === 'mknod' && [n.path, n.major, n.minor]), DEVICES.map((d) => [`${R}/dev/${d.name}`, d.major, d.minor]));
  assert.ok(ops.some((o) => o.op === 'symlink' && o.path === `${R}/dev/ptmx` && o.target === 'pts/ptmx'));
  assert.match(mounts.find((m) => m.fstype === 'devpts')!.data!, 'newinstance');
});

test('volumes are bound parents first, then the working directory is made, then the root turns read-only', () => {
  const mount = (target: string, readOnly = false) => ({ volume: 'v', source: '/vol', subPath: '', target, readOnly });
  const planned = planRootfs({ ...input, readOnlyRootFilesystem: true, mounts: [mount('/data/logs'), mount('/data', true)] });
  const tail = planned.filter((o) => ['bindVolume', 'mkdirInRoot', 'readOnly'].includes(o.op));
  assert.equal(tail, [
    { op: 'bindVolume', root: R, source: '/vol', subPath: '', target: '/data', readOnly: true },
    { op: 'bindVolume', root: R, source: '/vol', subPath: '', target: '/data/logs', readOnly: false },
    { op: 'mkdirInRoot', root: R, path: '/srv' },
    { op: 'readOnly', target: R },
  ]);
  assert.ok(planned.findIndex((o) => o.op === 'readOnly') < planned.findIndex((o) => o.op === 'pivot'));
  assert.not.ok(ops.some((o) => o.op === 'readOnly'), 'writable unless asked');
});

test('/sys is read-only, unless privileged', () => {
  const sys = mounts.find((m) => m.fstype === 'sysfs')!;
  assert.ok(sys.flags & MS_RDONLY);
  const privileged = planRootfs({ ...input, privileged: true }).find((o) => o.op === 'mountIn' && o.fstype === 'sysfs');
  assert.is(privileged?.op === 'mountIn' && privileged.flags & MS_RDONLY, 0);
});

test('apply: device nodes are created then chmod-ed past the umask; pivot detaches the old root', () => {
  const fake = new FakeLibc();
  applyRootfs(new Libc(fake), [
    { op: 'mknod', path: '/r/dev/null', mode: 0o666, major: 1, minor: 3 },
    { op: 'pivot', root: '/r' },
  ]);
  assert.equal(fake.calls, [
    ['mknod', '/r/dev/null', S_IFCHR | 0o666, (1 << 8) | 3],
    ['chmod', '/r/dev/null', 0o666],
    ['chdir', '/r'],
    ['pivot_root', '.', '.'],
    ['umount2', '.', MNT_DETACH],
    ['chdir', '/'],
  ]);
});

// Issue #6: /dev, /sys, /proc and the rest were mounted by path, looked up
// again at mount time after checkMountPoints' lstat: check, then use.
test('apply: every mount point inside the root is resolved there and mounted through its descriptor; the read-only remount too', () => {
  const fake = new FakeLibc();
  applyRootfs(new Libc(fake), ops.filter((o) => o.op === 'mountIn' && o.path === '/sys'));
  applyRootfs(new Libc(fake), [{ op: 'readOnly', target: R }]);
  // The fake's descriptors count from 100: the root, /sys in it, the root again.
  assert.equal(fake.calls.filter(([n]) => n !== 'close'), [
    ['open', R, O_PATH | O_DIRECTORY | O_CLOEXEC],
    ['openat2', 100, '/sys', O_PATH | O_CLOEXEC | O_DIRECTORY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS],
    ['mount', 'sysfs', '/proc/self/fd/101', 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, null],
    ['open', R, O_PATH | O_DIRECTORY | O_CLOEXEC],
    ['mount', null, '/proc/self/fd/102', null, MS_BIND | MS_REMOUNT | MS_RDONLY, null],
  ]);
});

test('apply: a mount point that is not a directory (a file, or a symlink to one, resolved in the root) is refused, nothing mounted', () => {
  const fake = new FakeLibc().failOn('openat2', ENOTDIR, ([, path, flags]) => path === '/proc' && ((flags as number) & O_DIRECTORY) !== 0);
  assert.throws(() => applyRootfs(new Libc(fake), ops.filter((o) => o.op === 'mountIn' && o.path === '/proc')), /mount point must be a directory/);
  assert.not.ok(fake.names().includes('mount'));
  assert.is(fake.names().filter((n) => n === 'close').length, 2, 'the root and the target closed');
});

test('apply stops at the first failure', () => {
  const fake = new FakeLibc().failOn('mount', 1);
  assert.throws(() => applyRootfs(new Libc(fake), ops), /^mount\(overlay, \/pod\/c\.0\/rootfs, overlay, 0x0, lowerdir=.*\): EPERM: the container's layer needs a state root \(--root\) on a filesystem overlayfs accepts/);
  assert.equal(fake.names(), ['mount']);
});

test.run();
