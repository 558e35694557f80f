import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, MNT_DETACH } from '../../../lib/sys/constants.ts';
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

test('pipe2 returns both ends', () => {
  const libc = new Libc(new FakeLibc());
  const [r, w] = libc.pipe2(0);
  assert.is(w, r + 1);
});

test.run();
