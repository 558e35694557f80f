import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AT_SYMLINK_NOFOLLOW, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, makedev, MNT_DETACH, S_IFCHR } from '../../../lib/sys/constants.ts';
import { errnoName } from '../../../lib/sys/errno.ts';
import { FakeLibc } from '../../../lib/sys/fake.ts';
import { Libc, SyscallError } from '../../../lib/sys/libc.ts';

const EPERM = 1;
const EINVAL = 22;

test('the fake fails only the matching call, once', () => {
  const fake = new FakeLibc().failOn('setns', EPERM, ([, nstype]) => nstype === CLONE_NEWNET);
  const libc = new Libc(fake);
  libc.setns(3, CLONE_NEWNS, '/proc/4242/ns/mnt');
  assert.throws(() => libc.setns(3, CLONE_NEWNET, '/proc/4242/ns/net'), /EPERM/);
  libc.setns(3, CLONE_NEWNET, '/proc/4242/ns/net');
  assert.equal(fake.names(), ['setns', 'setns', 'setns']);
});

test('SyscallError carries call, errno and code', () => {
  const libc = new Libc(new FakeLibc().failOn('setns', EPERM));
  try {
    libc.setns(3, CLONE_NEWNET, '/proc/4242/ns/net');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, SyscallError);
    const e = err as SyscallError;
    assert.is(e.message, 'setns(/proc/4242/ns/net, CLONE_NEWNET): EPERM');
    assert.is(e.call, 'setns');
    assert.is(e.code, 'EPERM');
    assert.is(e.exitCode, 125);
  }
});

const cases: [string, (l: Libc) => void, string][] = [
  ['unshare', (l) => l.unshare(CLONE_NEWNS | CLONE_NEWPID), 'unshare(CLONE_NEWNS|CLONE_NEWPID): EINVAL'],
  ['mount', (l) => l.mount('tmpfs', '/x/dev', 'tmpfs', 0x2, 'mode=755'), 'mount(tmpfs, /x/dev, tmpfs, 0x2, mode=755): EINVAL'],
  ['umount2', (l) => l.umount2('.', MNT_DETACH), 'umount2(., MNT_DETACH): EINVAL'],
  ['pivot_root', (l) => l.pivotRoot('.', '.'), 'pivot_root(., .): EINVAL'],
  ['sethostname', (l) => l.sethostname('web'), 'sethostname("web"): EINVAL'],
  ['mknod', (l) => l.mknod('/x/dev/null', 0o20666, 1, 3), 'mknod(/x/dev/null, 1:3): EINVAL'],
  ['chroot', (l) => l.chroot('/x'), 'chroot(/x): EINVAL'],
  ['prctl', (l) => l.prctl(1, 9), 'prctl(1, 9): EINVAL'],
  ['ioctl', (l) => l.ioctl(3, 0x8914, new Uint8Array(40), 'lo'), 'ioctl(lo, 0x8914): EINVAL'],
  ['openat', (l) => l.openat(3, 'passwd', 0, 0o600, '/etc'), 'openat(/etc, "passwd"): EINVAL'],
  ['mknodat', (l) => l.mknodat(3, 'null', S_IFCHR, 1, 3, '/dev'), 'mknodat(/dev, "null", 1:3): EINVAL'],
  ['symlinkat', (l) => l.symlinkat('/bin/busybox', 3, 'sh', '/bin'), 'symlinkat("/bin/busybox", /bin, "sh"): EINVAL'],
  ['linkat', (l) => l.linkat(3, 'busybox', 4, 'sh', 0, '/bin', '/usr/bin'), 'linkat(/bin, "busybox", /usr/bin, "sh"): EINVAL'],
  ['fchownat', (l) => l.fchownat(3, 'x', 1000, 100, AT_SYMLINK_NOFOLLOW, '/home'), 'fchownat(/home, "x", 1000:100): EINVAL'],
  ['fchmodat', (l) => l.fchmodat(3, 'su', 0o4755, '/bin'), 'fchmodat(/bin, "su", 04755): EINVAL'],
  ['utimensat', (l) => l.utimensat(3, '.', [1, 2], [3, 4], 0, '/etc'), 'utimensat(/etc, "."): EINVAL'],
  ['lsetxattr', (l) => l.lsetxattr('/proc/self/fd/3/ping', 'security.capability', new Uint8Array(20), '/bin/ping'), 'lsetxattr(/bin/ping, security.capability): EINVAL'],
];
for (const [name, call, message] of cases) {
  test(`${name} failure message`, () => {
    const libc = new Libc(new FakeLibc().failOn(name, EINVAL));
    assert.throws(() => call(libc), (err: Error) => err.message === message);
  });
}

test('errno names', () => {
  assert.is(errnoName(1), 'EPERM');
  assert.is(errnoName(2), 'ENOENT');
  assert.is(errnoName(22), 'EINVAL');
  assert.is(errnoName(95), 'EOPNOTSUPP');
  assert.is(errnoName(4000), 'errno 4000');
});

test('makedev as glibc computes it, past 8 bits of minor and 12 of major', () => {
  assert.is(makedev(1, 3), 0x103);
  assert.is(makedev(7, 300), 0x10072c);
  assert.is(makedev(259, 0xfffff), 0xfff103ff);
  assert.is(makedev(4096, 0), 2 ** 44);
});

test('utimensat and lsetxattr pass their buffers as the kernel reads them', () => {
  const fake = new FakeLibc();
  const libc = new Libc(fake);
  libc.utimensat(3, 'f', [-2, 500000000], [1700000000, 123456789], AT_SYMLINK_NOFOLLOW, '/');
  libc.lsetxattr('/x', 'user.a', Uint8Array.from([0, 0xff]), '/x');
  assert.equal(fake.calls, [
    ['utimensat', 3, 'f', [-2, 500000000, 1700000000, 123456789], AT_SYMLINK_NOFOLLOW],
    ['lsetxattr', '/x', 'user.a', Uint8Array.from([0, 0xff]), 0],
  ]);
});

test('pipe2 returns both ends', () => {
  const libc = new Libc(new FakeLibc());
  const [r, w] = libc.pipe2(0);
  assert.is(w, r + 1);
});

test.run();
