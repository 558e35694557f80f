import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureIn, fdPath, openIn, type Scope } from '../../../lib/rootfs/in-root.ts';
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
} from '../../../lib/sys/constants.ts';
import { ENOENT, ENOSYS, ENOTDIR, EXDEV } from '../../../lib/sys/errno.ts';
import { type Call, FakeLibc } from '../../../lib/sys/fake.ts';
import { openHost } from '../../../lib/sys/host.ts';
import { Libc, type RawLibc, SyscallError } from '../../../lib/sys/libc.ts';

const EACCES = 13;
const EEXIST = 17;
const ROOT = 7;
const PATH = O_PATH | O_CLOEXEC;
const DIR = PATH | O_DIRECTORY;
const CREATE = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
const BENEATH = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

const openat2 = (dirfd: number, path: string, flags: number, resolve = IN_ROOT, mode = 0): Call => ['openat2', dirfd, path, flags, mode, resolve];
const mkdirat = (dirfd: number, path: string): Call => ['mkdirat', dirfd, path, 0o755];
const close = (fd: number): Call => ['close', fd];

/** A recording libc that also remembers every fd openat2 handed out (the fake's fds start at 100). */
function fake() {
  const raw = new FakeLibc();
  const opened: number[] = [];
  const open = raw.openat2;
  raw.openat2 = (dirfd, path, how) => {
    const fd = open(dirfd, path, how);
    if (fd >= 0) opened.push(fd);
    return fd;
  };
  const closed = () => raw.calls.filter(([name]) => name === 'close').map(([, fd]) => fd as number);
  /** Every fd opened was closed, but `kept`, and none twice. */
  const assertOnlyKept = (...kept: number[]) => {
    assert.equal([...closed()].sort(), opened.filter((fd) => !kept.includes(fd)).sort(), 'closed fds');
  };
  return { raw, libc: new Libc(raw), opened, assertOnlyKept };
}

function syscallError(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SyscallError);
    return err as SyscallError;
  }
  throw assert.unreachable('no error');
}

test('fdPath', () => {
  assert.is(fdPath(42), '/proc/self/fd/42');
});

// openIn

const OPEN_CASES: [string, string, Scope, Call][] = [
  ['in-root', 'a/b', 'in-root', openat2(ROOT, 'a/b', DIR, IN_ROOT)],
  ['beneath', 'a/b', 'beneath', openat2(ROOT, 'a/b', DIR, BENEATH)],
  ['the root itself as "."', '', 'in-root', openat2(ROOT, '.', DIR, IN_ROOT)],
];
for (const [name, path, scope, call] of OPEN_CASES) {
  test(`openIn: an existing directory, ${name}: one openat2`, () => {
    const { raw, libc } = fake();
    assert.equal(openIn(libc, ROOT, path, scope), { fd: 100, dir: true });
    assert.equal(raw.calls, [call]);
  });
}

for (const scope of ['in-root', 'beneath'] as const) {
  test(`openIn: ENOTDIR means a file: opened again without O_DIRECTORY (${scope})`, () => {
    const { raw, libc } = fake();
    raw.failOn('openat2', ENOTDIR);
    const resolve = scope === 'in-root' ? IN_ROOT : BENEATH;
    assert.equal(openIn(libc, ROOT, 'etc/hosts', scope), { fd: 101, dir: false });
    assert.equal(raw.calls, [openat2(ROOT, 'etc/hosts', DIR, resolve), openat2(ROOT, 'etc/hosts', PATH, resolve)]);
  });
}

const OPEN_ERROR_CASES: [string, number, string][] = [
  ['EACCES', EACCES, 'openat2(root, "a/b"): EACCES'],
  ['ENOENT', ENOENT, 'openat2(root, "a/b"): ENOENT'],
  ['EXDEV', EXDEV, 'openat2(root, "a/b"): EXDEV'],
];
for (const [name, errno, message] of OPEN_ERROR_CASES) {
  test(`openIn: ${name} propagates, no retry`, () => {
    const { raw, libc } = fake();
    raw.failOn('openat2', errno);
    const err = syscallError(() => openIn(libc, ROOT, 'a/b', 'in-root'));
    assert.is(err.message, message);
    assert.is(err.errno, errno);
    assert.equal(raw.names(), ['openat2']);
  });
}

test('openIn: the retry without O_DIRECTORY can fail too', () => {
  const { raw, libc } = fake();
  raw.failOn('openat2', ENOTDIR).failOn('openat2', EACCES);
  assert.is(syscallError(() => openIn(libc, ROOT, 'a/b', 'in-root')).message, 'openat2(root, "a/b"): EACCES');
  assert.equal(raw.calls, [openat2(ROOT, 'a/b', DIR), openat2(ROOT, 'a/b', PATH)]);
});

// ensureIn: it opens the root, then each component from the root; a
// missing one (ENOENT) is made in its parent's fd and opened from there.

const failsAt = (path: string) => ([, p]: unknown[]) => p === path;

test('ensureIn: every component exists: opened from the root one by one, each parent closed', () => {
  const { raw, libc, assertOnlyKept } = fake();
  assert.is(ensureIn(libc, ROOT, 'a/b', 'in-root', 'dir'), 102);
  assert.equal(raw.calls, [
    openat2(ROOT, '.', DIR),
    openat2(ROOT, 'a', DIR),
    close(100),
    openat2(ROOT, 'a/b', DIR),
    close(101),
  ]);
  assertOnlyKept(102);
});

test('ensureIn: "" and "." and slashes name the root itself', () => {
  for (const path of ['', '.', '/', './/.']) {
    const { raw, libc, assertOnlyKept } = fake();
    assert.is(ensureIn(libc, ROOT, path, 'in-root', 'dir'), 100);
    assert.equal(raw.calls, [openat2(ROOT, '.', DIR)]);
    assertOnlyKept(100);
  }
});

test('ensureIn: missing directories are made with mkdirat in the parent fd, 0755', () => {
  const { raw, libc, assertOnlyKept } = fake();
  raw.failOn('openat2', ENOENT, failsAt('a/b')).failOn('openat2', ENOENT, failsAt('a/b/c'));
  assert.is(ensureIn(libc, ROOT, '/a//b/./c/', 'in-root', 'dir'), 105);
  assert.equal(raw.calls, [
    openat2(ROOT, '.', DIR), // 100
    openat2(ROOT, 'a', DIR), // 101
    close(100),
    openat2(ROOT, 'a/b', DIR), // ENOENT
    mkdirat(101, 'b'),
    openat2(101, 'b', DIR), // 103
    close(101),
    openat2(ROOT, 'a/b/c', DIR), // ENOENT
    mkdirat(103, 'c'),
    openat2(103, 'c', DIR), // 105
    close(103),
  ]);
  assertOnlyKept(105);
});

test('ensureIn: a missing last component of kind file is created 0644 in its parent', () => {
  const { raw, libc, assertOnlyKept } = fake();
  raw.failOn('openat2', ENOENT, failsAt('a/f'));
  assert.is(ensureIn(libc, ROOT, 'a/f', 'in-root', 'file'), 104);
  assert.equal(raw.calls, [
    openat2(ROOT, '.', DIR), // 100
    openat2(ROOT, 'a', DIR), // 101
    close(100),
    openat2(ROOT, 'a/f', PATH), // ENOENT
    openat2(101, 'f', CREATE, IN_ROOT, 0o644), // 103
    close(103),
    openat2(101, 'f', PATH), // 104
    close(101),
  ]);
  assertOnlyKept(104);
});

test('ensureIn: kind file, missing parents too: directories first, then the file (beneath)', () => {
  const { raw, libc, assertOnlyKept } = fake();
  raw.failOn('openat2', ENOENT, failsAt('d')).failOn('openat2', ENOENT, failsAt('d/f'));
  assert.is(ensureIn(libc, ROOT, 'd/f', 'beneath', 'file'), 105);
  assert.equal(raw.calls, [
    openat2(ROOT, '.', DIR, BENEATH), // 100
    openat2(ROOT, 'd', DIR, BENEATH), // ENOENT
    mkdirat(100, 'd'),
    openat2(100, 'd', DIR, BENEATH), // 102
    close(100),
    openat2(ROOT, 'd/f', PATH, BENEATH), // ENOENT
    openat2(102, 'f', CREATE, BENEATH, 0o644), // 104
    close(104),
    openat2(102, 'f', PATH, BENEATH), // 105
    close(102),
  ]);
  assertOnlyKept(105);
});

test('ensureIn: an existing last component of kind file is opened without O_DIRECTORY', () => {
  const { raw, libc, assertOnlyKept } = fake();
  assert.is(ensureIn(libc, ROOT, 'f', 'in-root', 'file'), 101);
  assert.equal(raw.calls, [openat2(ROOT, '.', DIR), openat2(ROOT, 'f', PATH), close(100)]);
  assertOnlyKept(101);
});

// [name, kind of 'a/b', the failure, message, calls]
const ENSURE_ERROR_CASES: [string, 'dir' | 'file', (raw: FakeLibc) => void, string, Call[]][] = [
  [
    'openat2 EACCES on a component',
    'dir',
    (raw) => raw.failOn('openat2', EACCES, failsAt('a/b')),
    'openat2(root, "a/b"): EACCES',
    [openat2(ROOT, '.', DIR), openat2(ROOT, 'a', DIR), close(100), openat2(ROOT, 'a/b', DIR), close(101)],
  ],
  [
    'openat2 ENOTDIR (a file where a directory is wanted)',
    'dir',
    (raw) => raw.failOn('openat2', ENOTDIR, failsAt('a')),
    'openat2(root, "a"): ENOTDIR',
    [openat2(ROOT, '.', DIR), openat2(ROOT, 'a', DIR), close(100)],
  ],
  [
    'mkdirat EEXIST',
    'dir',
    (raw) => raw.failOn('openat2', ENOENT, failsAt('a/b')).failOn('mkdirat', EEXIST),
    'mkdirat(/a, "b"): EEXIST',
    [openat2(ROOT, '.', DIR), openat2(ROOT, 'a', DIR), close(100), openat2(ROOT, 'a/b', DIR), mkdirat(101, 'b'), close(101)],
  ],
  [
    'mkdirat in the root',
    'dir',
    (raw) => raw.failOn('openat2', ENOENT, failsAt('a')).failOn('mkdirat', EACCES),
    'mkdirat(/, "a"): EACCES',
    [openat2(ROOT, '.', DIR), openat2(ROOT, 'a', DIR), mkdirat(100, 'a'), close(100)],
  ],
  [
    'the root itself',
    'dir',
    (raw) => raw.failOn('openat2', EACCES),
    'openat2(root, "."): EACCES',
    [openat2(ROOT, '.', DIR)],
  ],
  [
    'creating the file',
    'file',
    (raw) => raw.failOn('openat2', ENOENT, failsAt('a/b')).failOn('openat2', EEXIST, failsAt('b')),
    'openat2(/a, "b"): EEXIST',
    [openat2(ROOT, '.', DIR), openat2(ROOT, 'a', DIR), close(100), openat2(ROOT, 'a/b', PATH), openat2(101, 'b', CREATE, IN_ROOT, 0o644), close(101)],
  ],
];
for (const [name, kind, setup, message, calls] of ENSURE_ERROR_CASES) {
  test(`ensureIn error: ${name}: propagates, every fd closed`, () => {
    const { raw, libc, assertOnlyKept } = fake();
    setup(raw);
    assert.is(syscallError(() => ensureIn(libc, ROOT, 'a/b', 'in-root', kind)).message, message);
    assert.equal(raw.calls, calls);
    assertOnlyKept();
  });
}

// The real kernel: openat2 on a temp dir needs no privilege. The test runs
// as whoever runs the suite, root included, so the name made is unique and
// checked for on the host afterwards.

const tmp = mkdtempSync(join(tmpdir(), 'minipod-rootfs-in-root-'));
const unique = `minipod-test-${process.pid}-${Date.now()}`;
test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(join('/etc', unique), { recursive: true, force: true }); // only there if the test failed
});

async function realLibc(): Promise<Libc | string> {
  let libc: Libc;
  try {
    libc = (await openHost()).libc;
  } catch (err) {
    return `no libc binding: ${(err as Error).message}`;
  }
  try {
    libc.close(libc.openat2(-100, tmp, { flags: PATH | O_DIRECTORY, resolve: 0 }, 'AT_FDCWD'));
  } catch (err) {
    return `openat2 unavailable: ${(err as Error).message}`;
  }
  return libc;
}

function withRoot<T>(libc: Libc, dir: string, fn: (fd: number) => T): T {
  const fd = libc.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    return fn(fd);
  } finally {
    libc.close(fd);
  }
}

/**
 * The same libc on a kernel without openat2 (before 5.6): the raw call says
 * ENOSYS, and Libc walks the path itself (lib/sys/openat2-walk.ts).
 */
function withoutOpenat2(libc: Libc): Libc {
  const raw = Object.create(libc.raw) as RawLibc;
  let errno = 0;
  raw.errno = () => errno || libc.raw.errno();
  raw.openat2 = () => ((errno = ENOSYS), -1);
  for (const name of ['openat', 'readlinkat', 'close', 'mkdirat'] as const) {
    const call = libc.raw[name] as (...args: unknown[]) => number;
    (raw as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => ((errno = 0), call(...args));
  }
  return new Libc(raw);
}

const KERNELS: [string, (libc: Libc) => Libc][] = [['openat2', (libc) => libc], ['no openat2, walked', withoutOpenat2]];

for (const [kernel, variant] of KERNELS) {
  test(`real kernel (${kernel}): in-root clamps a symlink to / at the root; beneath refuses it with EXDEV`, async () => {
    const real = await realLibc();
    if (typeof real === 'string') {
      console.log(`  skipping the real-kernel test: ${real}`);
      return;
    }
    hostileTree(variant(real), join(tmp, kernel === 'openat2' ? 'root' : 'walked'));
  });
}

// Differential: every lookup below ends the same way through the walk as
// through the kernel's openat2, at the same file or with the same errno.
test('real kernel: the walk without openat2 resolves as openat2 does', async () => {
  const real = await realLibc();
  if (typeof real === 'string') {
    console.log(`  skipping the real-kernel test: ${real}`);
    return;
  }
  const walked = withoutOpenat2(real);
  const root = join(tmp, 'differential');
  mkdirSync(join(root, 'inside', 'deeper'), { recursive: true });
  closeSync(openSync(join(root, 'inside', 'file'), 'w'));
  symlinkSync('/', join(root, 'link'));
  symlinkSync('../..', join(root, 'inside', 'up'));
  symlinkSync(join(tmp, 'elsewhere'), join(root, 'abs'));
  symlinkSync('loop', join(root, 'loop'));
  symlinkSync('inside', join(root, 'rel'));
  symlinkSync('b', join(root, 'a'));
  symlinkSync('c/deeper', join(root, 'b'));
  symlinkSync('/inside', join(root, 'c'));
  symlinkSync('missing/x', join(root, 'dangling'));
  symlinkSync('file', join(root, 'inside', 'tofile'));
  const paths = [
    '', '.', '/', 'inside', 'inside/', 'inside/file', 'inside/file/', 'inside/deeper/../file', '../../inside', 'link',
    'link/inside', 'link/../..', 'inside/up', 'inside/up/inside/deeper', 'abs', 'abs/x', 'loop', 'rel/file', 'rel/../rel/deeper',
    'a', 'a/..', 'dangling', 'nothere', 'nothere/x', 'inside/tofile', '/inside/file', 'inside/file/x',
  ];
  const outcome = (libc: Libc, rootfd: number, path: string, flags: number, resolve: number) => {
    try {
      const fd = libc.openat2(rootfd, path, { flags, resolve }, 'root');
      try {
        return readlinkSync(fdPath(fd)).replace(root, '<root>');
      } finally {
        libc.close(fd);
      }
    } catch (err) {
      return (err as SyscallError).code;
    }
  };
  withRoot(real, root, (rootfd) => {
    for (const resolve of [IN_ROOT, BENEATH, IN_ROOT | RESOLVE_NO_SYMLINKS]) {
      for (const flags of [PATH, DIR, PATH | O_NOFOLLOW]) {
        for (const path of paths) {
          const expected = outcome(real, rootfd, path, flags, resolve);
          assert.is(outcome(walked, rootfd, path, flags, resolve), expected, `${JSON.stringify(path)} flags 0${flags.toString(8)} resolve 0x${resolve.toString(16)}`);
        }
      }
    }
  });
});

function hostileTree(libc: Libc, root: string): void {
  mkdirSync(join(root, 'inside'), { recursive: true });
  symlinkSync('/', join(root, 'link'));
  symlinkSync('../..', join(root, 'inside', 'up'));
  symlinkSync(join(tmp, 'elsewhere'), join(root, 'abs'));
  assert.not.ok(existsSync(join('/etc', unique)));

  withRoot(libc, root, (rootfd) => {
    const fd = ensureIn(libc, rootfd, `link/etc/${unique}/sub`, 'in-root', 'dir');
    try {
      assert.ok(statSync(fdPath(fd)).isDirectory());
    } finally {
      libc.close(fd);
    }
    const file = ensureIn(libc, rootfd, `inside/up/${unique}-file`, 'in-root', 'file');
    libc.close(file);
    const opened = openIn(libc, rootfd, `link/${unique}-file`, 'in-root');
    assert.is(opened.dir, false);
    libc.close(opened.fd);

    // [path, the prefix whose lookup leaves the root]
    const leaving: [string, string][] = [['link/etc', 'link'], ['inside/up/etc', 'inside/up'], ['abs/x', 'abs'], ['../x', '..']];
    for (const [path, prefix] of leaving) {
      const err = syscallError(() => ensureIn(libc, rootfd, path, 'beneath', 'dir'));
      assert.is(err.errno, EXDEV, path);
      assert.is(err.message, `openat2(root, "${prefix}"): EXDEV`);
    }
    assert.is(syscallError(() => openIn(libc, rootfd, 'link', 'beneath')).message, 'openat2(root, "link"): EXDEV');
  });

  assert.ok(statSync(join(root, 'etc', unique, 'sub')).isDirectory());
  assert.is(statSync(join(root, 'etc', unique)).mode & 0o7777, 0o755 & ~currentUmask());
  const created = lstatSync(join(root, `${unique}-file`));
  assert.ok(created.isFile());
  assert.is(created.size, 0);
  assert.is(created.mode & 0o7777, 0o644 & ~currentUmask());
  assert.not.ok(existsSync(join('/etc', unique)), `/etc/${unique} made on the host`);
  assert.not.ok(existsSync(join(tmp, 'elsewhere')));
  assert.not.ok(existsSync(join(tmp, 'x')));
  assert.not.ok(existsSync(join('/', `${unique}-file`)), `/${unique}-file made on the host`);
}

/** The umask, read without changing it for long. */
function currentUmask(): number {
  const probe = join(tmp, `umask-${Math.random()}`);
  closeSync(openSync(probe, 'w', 0o777));
  const mode = statSync(probe).mode & 0o777;
  rmSync(probe);
  return 0o777 & ~mode;
}

test.run();
