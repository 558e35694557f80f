import { EINVAL } from './errno.ts';
import type { Host } from './host.ts';
import { Libc, type RawLibc } from './libc.ts';
import type { Child, ExitStatus, SpawnRequest, Spawner } from './process.ts';

export type Call = [name: string, ...args: unknown[]];

/**
 * A libc that does nothing but record, as youki's test syscall does: the
 * logic above lib/sys is tested by the exact sequence of calls it makes,
 * and by telling one call to fail, without root.
 */
export class FakeLibc implements RawLibc {
  readonly calls: Call[] = [];
  private nextFd = 100;
  private lastErrno = 0;
  private failures: { name: string; errno: number; when: (args: unknown[]) => boolean }[] = [];

  /** Make the next matching call fail with `errno`. */
  failOn(name: string, errno: number, when: (args: unknown[]) => boolean = () => true): this {
    this.failures.push({ name, errno, when });
    return this;
  }

  /** The recorded calls by name only, for asserting an order. */
  names(): string[] {
    return this.calls.map(([name]) => name);
  }

  private call(name: string, args: unknown[], result = 0): number {
    this.calls.push([name, ...args]);
    const i = this.failures.findIndex((f) => f.name === name && f.when(args));
    if (i >= 0) {
      this.lastErrno = this.failures[i]!.errno;
      this.failures.splice(i, 1);
      return -1;
    }
    return result;
  }

  errno = () => this.lastErrno;
  unshare = (flags: number) => this.call('unshare', [flags]);
  setns = (fd: number, nstype: number) => this.call('setns', [fd, nstype]);
  sethostname = (name: Uint8Array) => this.call('sethostname', [new TextDecoder().decode(name)]);
  mount = (source: string | null, target: string, fstype: string | null, flags: number, data: string | null) =>
    this.call('mount', [source, target, fstype, flags, data]);
  umount2 = (target: string, flags: number) => this.call('umount2', [target, flags]);
  pivotRoot = (newRoot: string, putOld: string) => this.call('pivot_root', [newRoot, putOld]);
  chdir = (path: string) => this.call('chdir', [path]);
  fchdir = (fd: number) => this.call('fchdir', [fd]);
  chroot = (path: string) => this.call('chroot', [path]);
  open = (path: string, flags: number) => this.call('open', [path, flags], this.nextFd++);
  openat2 = (dirfd: number, path: string, how: Uint8Array) => {
    const [flags, mode, resolve] = new BigUint64Array(how.buffer, how.byteOffset, 3);
    return this.call('openat2', [dirfd, path, Number(flags), Number(mode), Number(resolve)], this.nextFd++);
  };
  openat = (dirfd: number, path: string, flags: number, mode: number) => this.call('openat', [dirfd, path, flags, mode], this.nextFd++);
  /** Every path is a plain file to the fake: readlinkat says EINVAL, not a link. */
  readlinkat = (dirfd: number, path: string) => {
    this.lastErrno = EINVAL;
    return this.call('readlinkat', [dirfd, path], -1);
  };
  mkdirat = (dirfd: number, path: string, mode: number) => this.call('mkdirat', [dirfd, path, mode]);
  mknodat = (dirfd: number, path: string, mode: number, dev: number) => this.call('mknodat', [dirfd, path, mode, dev]);
  symlinkat = (target: string, dirfd: number, path: string) => this.call('symlinkat', [target, dirfd, path]);
  linkat = (olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number) =>
    this.call('linkat', [olddirfd, oldpath, newdirfd, newpath, flags]);
  fchownat = (dirfd: number, path: string, uid: number, gid: number, flags: number) => this.call('fchownat', [dirfd, path, uid, gid, flags]);
  fchmodat = (dirfd: number, path: string, mode: number, flags: number) => this.call('fchmodat', [dirfd, path, mode, flags]);
  utimensat = (dirfd: number, path: string, times: Uint8Array, flags: number) =>
    this.call('utimensat', [dirfd, path, [...new BigInt64Array(times.buffer, times.byteOffset, 4)].map(Number), flags]);
  lsetxattr = (path: string, name: string, value: Uint8Array, size: number, flags: number) =>
    this.call('lsetxattr', [path, name, value.slice(0, size), flags]);
  close = (fd: number) => this.call('close', [fd]);
  pipe2 = (fds: Int32Array, flags: number) => {
    fds[0] = this.nextFd++;
    fds[1] = this.nextFd++;
    return this.call('pipe2', [flags, fds[0], fds[1]]);
  };
  read = (fd: number) => this.call('read', [fd]);
  write = (fd: number, _buf: Uint8Array, count: number) => this.call('write', [fd, count], count);
  mknod = (path: string, mode: number, dev: number) => this.call('mknod', [path, mode, dev]);
  mkdir = (path: string, mode: number) => this.call('mkdir', [path, mode]);
  chmod = (path: string, mode: number) => this.call('chmod', [path, mode]);
  symlink = (target: string, path: string) => this.call('symlink', [target, path]);
  kill = (pid: number, sig: number) => this.call('kill', [pid, sig]);
  setsid = () => this.call('setsid', []);
  flock = (fd: number, op: number) => this.call('flock', [fd, op]);
  memfdCreate = (name: string, flags: number) => this.call('memfd_create', [name, flags], this.nextFd++);
  fcntl = (fd: number, cmd: number, arg: number) => this.call('fcntl', [fd, cmd, arg]);
  prctl = (option: number, arg2: number) => this.call('prctl', [option, arg2]);
  socket = (domain: number, type: number, protocol: number) => this.call('socket', [domain, type, protocol], this.nextFd++);
  ioctl = (fd: number, request: number) => this.call('ioctl', [fd, request]);
}

/** A spawner whose children exit when the test says so, or when signalled. */
export class FakeSpawner implements Spawner {
  readonly requests: SpawnRequest[] = [];
  /** PIDs of children that ignore SIGTERM, as a shell that is PID 1 does. */
  readonly ignoreTerm = new Set<number>();
  private nextPid = 1000;
  private exits = new Map<number, (status: ExitStatus) => void>();

  spawn(request: SpawnRequest): Child {
    this.requests.push(request);
    const pid = this.nextPid++;
    const exited = new Promise<ExitStatus>((resolve) => this.exits.set(pid, resolve));
    return { pid, stdout: null, stderr: null, exited };
  }

  exit(pid: number, status: ExitStatus): void {
    this.exits.get(pid)?.(status);
  }

  signal(pid: number, sig: number): void {
    if (sig === 15 && this.ignoreTerm.has(pid)) return;
    this.exit(pid, { code: null, signal: sig });
  }
}

/** A whole fake host: kill() on a fake child ends it with that signal. */
export function fakeHost(): { host: Host; libc: FakeLibc; spawner: FakeSpawner } {
  const libc = new FakeLibc();
  const spawner = new FakeSpawner();
  const kill = libc.kill;
  libc.kill = (pid, sig) => {
    const result = kill(pid, sig);
    if (result === 0) queueMicrotask(() => spawner.signal(pid, sig));
    return result;
  };
  return { host: { runtime: 'node', libc: new Libc(libc), spawner, pid: 4242 }, libc, spawner };
}
