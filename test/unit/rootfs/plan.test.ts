import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyRootfs } from '../../../lib/rootfs/apply.ts';
import { DEVICES, planRootfs, type RootfsOp } from '../../../lib/rootfs/plan.ts';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, S_IFCHR } from '../../../lib/sys/constants.ts';
import { FakeLibc } from '../../../lib/sys/fake.ts';
import { Libc } from '../../../lib/sys/libc.ts';

const ops = planRootfs({ rootfs: '/img/rootfs', podShm: '/run/minipod/p1/shm' });
const mounts = ops.filter((o): o is Extract<RootfsOp, { op: 'mount' }> => o.op === 'mount');

test('the rootfs is bound onto itself first, so that pivot_root accepts it and mounts land on the copy', () => {
  assert.equal(ops[0], { op: 'mount', source: '/img/rootfs', target: '/img/rootfs', fstype: null, flags: MS_BIND | MS_REC });
});

test('pivot is last, right after the temporary /proc bind used to exec the helper', () => {
  assert.equal(ops.at(-1), { op: 'pivot', root: '/img/rootfs' });
  assert.equal(ops.at(-2), { op: 'mount', source: '/proc', target: '/img/rootfs/proc', fstype: null, flags: MS_BIND });
});

test('every mount target is inside the rootfs', () => {
  for (const m of mounts) assert.ok(m.target.startsWith('/img/rootfs'), m.target);
});

test('a minimal /dev: tmpfs, the six devices with their numbers, devpts with its own ptmx, the pod shm, mqueue', () => {
  assert.equal(mounts.map((m) => [m.fstype ?? m.source, m.target]), [
    ['/img/rootfs', '/img/rootfs'],
    ['tmpfs', '/img/rootfs/dev'],
    ['devpts', '/img/rootfs/dev/pts'],
    ['/run/minipod/p1/shm', '/img/rootfs/dev/shm'],
    ['mqueue', '/img/rootfs/dev/mqueue'],
    ['sysfs', '/img/rootfs/sys'],
    ['/proc', '/img/rootfs/proc'],
  ]);
  const nodes = ops.filter((o) => o.op === 'mknod');
  assert.equal(nodes.map((n) => n.op === 'mknod' && [n.path, n.major, n.minor]), DEVICES.map((d) => [`/img/rootfs/dev/${d.name}`, d.major, d.minor]));
  assert.ok(ops.some((o) => o.op === 'symlink' && o.path === '/img/rootfs/dev/ptmx' && o.target === 'pts/ptmx'));
  assert.match(mounts.find((m) => m.fstype === 'devpts')!.data!, 'newinstance');
});

test('/sys is read-only', () => {
  const sys = mounts.find((m) => m.fstype === 'sysfs')!;
  assert.ok(sys.flags & MS_RDONLY);
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

test('apply stops at the first failure', () => {
  const fake = new FakeLibc().failOn('mount', 1);
  assert.throws(() => applyRootfs(new Libc(fake), ops), /mount\(\/img\/rootfs, \/img\/rootfs, none, 0x5000\): EPERM/);
  assert.equal(fake.names(), ['mount']);
});

test.run();
