import { MinipodError } from '../errors.ts';
import { cloneFlagNames, makedev, MNT_DETACH } from './constants.ts';
import { ENOSYS, errnoName } from './errno.ts';
import { openat2Walk, WalkErrno } from './openat2-walk.ts';

/**
 * The raw C library as a backend exposes it: each call returns what the C
 * function returns (-1 on failure) and `errno()` reads the thread's errno
 * right after. koffi (Node), Deno.dlopen (Deno) and the recording fake
 * (unit tests) implement this; nothing else in minipod talks to libc.
 */
export interface RawLibc {
  errno(): number;
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  sethostname(name: Uint8Array, len: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  pivotRoot(newRoot: string, putOld: string): number;
  chdir(path: string): number;
  fchdir(fd: number): number;
  chroot(path: string): number;
  open(path: string, flags: number, mode: number): number;
  /** `how` is struct open_how: flags, mode, resolve, each a u64. */
  openat2(dirfd: number, path: string, how: Uint8Array): number;
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  readlinkat(dirfd: number, path: string, buf: Uint8Array, size: number): number;
  mkdirat(dirfd: number, path: string, mode: number): number;
  mknodat(dirfd: number, path: string, mode: number, dev: number): number;
  symlinkat(target: string, dirfd: number, path: string): number;
  linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): number;
  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): number;
  fchmodat(dirfd: number, path: string, mode: number, flags: number): number;
  /** `times` is struct timespec[2] (atime, mtime): four i64, seconds then nanoseconds. */
  utimensat(dirfd: number, path: string, times: Uint8Array, flags: number): number;
  lsetxattr(path: string, name: string, value: Uint8Array, size: number, flags: number): number;
  close(fd: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  mknod(path: string, mode: number, dev: number): number;
  mkdir(path: string, mode: number): number;
  chmod(path: string, mode: number): number;
  symlink(target: string, path: string): number;
  kill(pid: number, sig: number): number;
  setsid(): number;
  flock(fd: number, op: number): number;
  memfdCreate(name: string, flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  prctl(option: number, arg2: number): number;
  socket(domain: number, type: number, protocol: number): number;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
}

/** A time as struct timespec holds it: whole seconds (negative before 1970) and nanoseconds. */
export type Timespec = [seconds: number, nanoseconds: number];

/** A failed system call: `setns(/proc/4242/ns/net, CLONE_NEWNET): EPERM`. */
export class SyscallError extends MinipodError {
  readonly call: string;
  readonly errno: number;
  readonly code: string;
  constructor(call: string, args: string, errno: number) {
    super(`${call}(${args}): ${errnoName(errno)}`);
    this.call = call;
    this.errno = errno;
    this.code = errnoName(errno);
  }
}

const encoder = new TextEncoder();

/**
 * The checked libc every module above lib/sys uses: same calls, but a
 * failure throws a SyscallError naming the call and its important argument.
 */
export class Libc {
  /** Set once the kernel has said it has no openat2: the walk stands in from then on. */
  private walkOpenat2 = false;

  constructor(readonly raw: RawLibc) {}

  private check(result: number, call: string, args: string): number {
    if (result < 0) throw new SyscallError(call, args, this.raw.errno());
    return result;
  }

  unshare(flags: number): void {
    this.check(this.raw.unshare(flags), 'unshare', cloneFlagNames(flags));
  }

  /** `what` names the file the fd was opened from, for the error message. */
  setns(fd: number, nstype: number, what: string): void {
    this.check(this.raw.setns(fd, nstype), 'setns', `${what}, ${cloneFlagNames(nstype)}`);
  }

  sethostname(name: string): void {
    const bytes = encoder.encode(name);
    this.check(this.raw.sethostname(bytes, bytes.length), 'sethostname', JSON.stringify(name));
  }

  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
    const what = [source ?? 'none', target, fstype ?? 'none', `0x${flags.toString(16)}`];
    if (data) what.push(data);
    this.check(this.raw.mount(source, target, fstype, flags, data), 'mount', what.join(', '));
  }

  umount2(target: string, flags: number): void {
    this.check(this.raw.umount2(target, flags), 'umount2', `${target}, ${flags === MNT_DETACH ? 'MNT_DETACH' : flags}`);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    this.check(this.raw.pivotRoot(newRoot, putOld), 'pivot_root', `${newRoot}, ${putOld}`);
  }

  chdir(path: string): void {
    this.check(this.raw.chdir(path), 'chdir', path);
  }

  fchdir(fd: number, what: string): void {
    this.check(this.raw.fchdir(fd), 'fchdir', what);
  }

  chroot(path: string): void {
    this.check(this.raw.chroot(path), 'chroot', path);
  }

  open(path: string, flags: number, mode = 0): number {
    return this.check(this.raw.open(path, flags, mode), 'open', path);
  }

  /**
   * openat2(2); `what` names dirfd for the error message. On a kernel
   * without it (ENOSYS), the same lookup is walked component by component
   * (openat2-walk.ts), with the same errors.
   */
  openat2(dirfd: number, path: string, how: { flags: number; mode?: number; resolve: number }, what: string): number {
    const args = `${what}, ${JSON.stringify(path)}`;
    if (!this.walkOpenat2) {
      const struct = new BigUint64Array([BigInt(how.flags), BigInt(how.mode ?? 0), BigInt(how.resolve)]);
      const fd = this.raw.openat2(dirfd, path, new Uint8Array(struct.buffer));
      if (fd >= 0) return fd;
      const errno = this.raw.errno();
      if (errno !== ENOSYS) throw new SyscallError('openat2', args, errno);
      this.walkOpenat2 = true;
    }
    try {
      return openat2Walk(this.raw, dirfd, path, how.flags, how.mode ?? 0, how.resolve);
    } catch (err) {
      if (err instanceof WalkErrno) throw new SyscallError('openat2', args, err.errno);
      throw err;
    }
  }

  mkdirat(dirfd: number, path: string, mode: number, what: string): void {
    this.check(this.raw.mkdirat(dirfd, path, mode), 'mkdirat', `${what}, ${JSON.stringify(path)}`);
  }

  openat(dirfd: number, path: string, flags: number, mode: number, what: string): number {
    return this.check(this.raw.openat(dirfd, path, flags, mode), 'openat', `${what}, ${JSON.stringify(path)}`);
  }

  mknodat(dirfd: number, path: string, mode: number, major: number, minor: number, what: string): void {
    this.check(this.raw.mknodat(dirfd, path, mode, makedev(major, minor)), 'mknodat', `${what}, ${JSON.stringify(path)}, ${major}:${minor}`);
  }

  symlinkat(target: string, dirfd: number, path: string, what: string): void {
    this.check(this.raw.symlinkat(target, dirfd, path), 'symlinkat', `${JSON.stringify(target)}, ${what}, ${JSON.stringify(path)}`);
  }

  linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number, whatOld: string, whatNew: string): void {
    this.check(
      this.raw.linkat(olddirfd, oldpath, newdirfd, newpath, flags),
      'linkat',
      `${whatOld}, ${JSON.stringify(oldpath)}, ${whatNew}, ${JSON.stringify(newpath)}`,
    );
  }

  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, what: string): void {
    this.check(this.raw.fchownat(dirfd, path, uid, gid, flags), 'fchownat', `${what}, ${JSON.stringify(path)}, ${uid}:${gid}`);
  }

  fchmodat(dirfd: number, path: string, mode: number, what: string): void {
    // Linux's fchmodat has no AT_SYMLINK_NOFOLLOW: callers never name a symlink.
    this.check(this.raw.fchmodat(dirfd, path, mode, 0), 'fchmodat', `${what}, ${JSON.stringify(path)}, 0${mode.toString(8)}`);
  }

  /** Times as [seconds, nanoseconds]; `flags` AT_SYMLINK_NOFOLLOW sets a symlink's own. */
  utimensat(dirfd: number, path: string, atime: Timespec, mtime: Timespec, flags: number, what: string): void {
    const times = new BigInt64Array([BigInt(atime[0]), BigInt(atime[1]), BigInt(mtime[0]), BigInt(mtime[1])]);
    this.check(this.raw.utimensat(dirfd, path, new Uint8Array(times.buffer), flags), 'utimensat', `${what}, ${JSON.stringify(path)}`);
  }

  /** `what` stands for `path` in the message (a /proc/self/fd path means nothing to a reader). */
  lsetxattr(path: string, name: string, value: Uint8Array, what: string): void {
    this.check(this.raw.lsetxattr(path, name, value, value.length, 0), 'lsetxattr', `${what}, ${name}`);
  }

  close(fd: number): void {
    this.check(this.raw.close(fd), 'close', String(fd));
  }

  pipe2(flags: number): [read: number, write: number] {
    const fds = new Int32Array(2);
    this.check(this.raw.pipe2(fds, flags), 'pipe2', `0x${flags.toString(16)}`);
    return [fds[0]!, fds[1]!];
  }

  read(fd: number, buf: Uint8Array): number {
    return this.check(this.raw.read(fd, buf, buf.length), 'read', String(fd));
  }

  write(fd: number, buf: Uint8Array): number {
    return this.check(this.raw.write(fd, buf, buf.length), 'write', String(fd));
  }

  mknod(path: string, mode: number, major: number, minor: number): void {
    this.check(this.raw.mknod(path, mode, makedev(major, minor)), 'mknod', `${path}, ${major}:${minor}`);
  }

  mkdir(path: string, mode: number): void {
    this.check(this.raw.mkdir(path, mode), 'mkdir', path);
  }

  chmod(path: string, mode: number): void {
    this.check(this.raw.chmod(path, mode), 'chmod', `${path}, 0${mode.toString(8)}`);
  }

  symlink(target: string, path: string): void {
    this.check(this.raw.symlink(target, path), 'symlink', `${target}, ${path}`);
  }

  kill(pid: number, sig: number): void {
    this.check(this.raw.kill(pid, sig), 'kill', `${pid}, ${sig}`);
  }

  memfdCreate(name: string, flags: number): number {
    return this.check(this.raw.memfdCreate(name, flags), 'memfd_create', name);
  }

  fcntl(fd: number, cmd: number, arg: number): number {
    return this.check(this.raw.fcntl(fd, cmd, arg), 'fcntl', `${fd}, ${cmd}, 0x${arg.toString(16)}`);
  }

  flock(fd: number, op: number, what: string): void {
    this.check(this.raw.flock(fd, op), 'flock', `${what}, ${op}`);
  }

  /** A new session: the process outlives the terminal it was started from. */
  setsid(): void {
    this.check(this.raw.setsid(), 'setsid', '');
  }

  prctl(option: number, arg2: number): number {
    return this.check(this.raw.prctl(option, arg2), 'prctl', `${option}, ${arg2}`);
  }

  socket(domain: number, type: number, protocol: number): number {
    return this.check(this.raw.socket(domain, type, protocol), 'socket', `${domain}, ${type}, ${protocol}`);
  }

  ioctl(fd: number, request: number, arg: Uint8Array, what: string): void {
    this.check(this.raw.ioctl(fd, request, arg), 'ioctl', `${what}, 0x${request.toString(16)}`);
  }
}
