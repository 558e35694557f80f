import { syscallNumbers } from './constants.ts';
import type { RawLibc } from './libc.ts';

// Deno's own FFI. Strings cross as NUL-terminated buffers. Deno has no errno
// accessor, so errno is read through __errno_location() right after the
// failing call, on the same (main) thread, before any other libc call.
const encoder = new TextEncoder();
const cstr = (s: string | null) => (s === null ? null : encoder.encode(`${s}\0`));

const SYMBOLS = {
  __errno_location: { parameters: [], result: 'pointer' },
  unshare: { parameters: ['i32'], result: 'i32' },
  setns: { parameters: ['i32', 'i32'], result: 'i32' },
  sethostname: { parameters: ['buffer', 'usize'], result: 'i32' },
  mount: { parameters: ['buffer', 'buffer', 'buffer', 'usize', 'buffer'], result: 'i32' },
  umount2: { parameters: ['buffer', 'i32'], result: 'i32' },
  // syscall(2), prctl(2), ioctl(2), open(2) and openat(2) are variadic; Deno's FFI is not.
  // On x86_64 and aarch64 Linux the variadic integer and pointer arguments
  // travel in the same registers as fixed ones, so fixed prototypes are exact.
  syscall: { parameters: ['isize', 'buffer', 'buffer'], result: 'isize' },
  openat2: { name: 'syscall', parameters: ['isize', 'isize', 'buffer', 'buffer', 'usize'], result: 'isize' },
  openat: { parameters: ['i32', 'buffer', 'i32', 'u32'], result: 'i32' },
  readlinkat: { parameters: ['i32', 'buffer', 'buffer', 'usize'], result: 'isize' },
  mkdirat: { parameters: ['i32', 'buffer', 'u32'], result: 'i32' },
  mknodat: { parameters: ['i32', 'buffer', 'u32', 'u64'], result: 'i32' },
  symlinkat: { parameters: ['buffer', 'i32', 'buffer'], result: 'i32' },
  linkat: { parameters: ['i32', 'buffer', 'i32', 'buffer', 'i32'], result: 'i32' },
  fchownat: { parameters: ['i32', 'buffer', 'u32', 'u32', 'i32'], result: 'i32' },
  fchmodat: { parameters: ['i32', 'buffer', 'u32', 'i32'], result: 'i32' },
  utimensat: { parameters: ['i32', 'buffer', 'buffer', 'i32'], result: 'i32' },
  lsetxattr: { parameters: ['buffer', 'buffer', 'buffer', 'usize', 'i32'], result: 'i32' },
  chdir: { parameters: ['buffer'], result: 'i32' },
  fchdir: { parameters: ['i32'], result: 'i32' },
  chroot: { parameters: ['buffer'], result: 'i32' },
  open: { parameters: ['buffer', 'i32', 'u32'], result: 'i32' },
  close: { parameters: ['i32'], result: 'i32' },
  pipe2: { parameters: ['buffer', 'i32'], result: 'i32' },
  read: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
  write: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
  mknod: { parameters: ['buffer', 'u32', 'u64'], result: 'i32' },
  mkdir: { parameters: ['buffer', 'u32'], result: 'i32' },
  chmod: { parameters: ['buffer', 'u32'], result: 'i32' },
  symlink: { parameters: ['buffer', 'buffer'], result: 'i32' },
  kill: { parameters: ['i32', 'i32'], result: 'i32' },
  setsid: { parameters: [], result: 'i32' },
  flock: { parameters: ['i32', 'i32'], result: 'i32' },
  memfd_create: { parameters: ['buffer', 'u32'], result: 'i32' },
  fcntl: { parameters: ['i32', 'i32', 'i32'], result: 'i32' },
  prctl: { parameters: ['i32', 'usize', 'usize', 'usize', 'usize'], result: 'i32' },
  socket: { parameters: ['i32', 'i32', 'i32'], result: 'i32' },
  ioctl: { parameters: ['i32', 'usize', 'buffer'], result: 'i32' },
} as const;

export function denoLibc(): RawLibc {
  const s = Deno.dlopen('libc.so.6', SYMBOLS).symbols;
  const errnoView = new Deno.UnsafePointerView(s.__errno_location() as Deno.PointerValue);
  const { pivot_root, openat2 } = syscallNumbers(Deno.build.arch === 'aarch64' ? 'arm64' : 'x64');
  const int = (value: unknown) => Number(value);

  return {
    errno: () => errnoView.getInt32(),
    unshare: (flags) => int(s.unshare(flags)),
    setns: (fd, nstype) => int(s.setns(fd, nstype)),
    sethostname: (name, len) => int(s.sethostname(name, len)),
    mount: (source, target, fstype, flags, data) =>
      int(s.mount(cstr(source), cstr(target), cstr(fstype), flags, cstr(data))),
    umount2: (target, flags) => int(s.umount2(cstr(target), flags)),
    pivotRoot: (newRoot, putOld) => int(s.syscall(pivot_root, cstr(newRoot), cstr(putOld))),
    chdir: (path) => int(s.chdir(cstr(path))),
    fchdir: (fd) => int(s.fchdir(fd)),
    chroot: (path) => int(s.chroot(cstr(path))),
    open: (path, flags, mode) => int(s.open(cstr(path), flags, mode)),
    openat2: (dirfd, path, how) => int(s.openat2(openat2, dirfd, cstr(path), how, how.length)),
    openat: (dirfd, path, flags, mode) => int(s.openat(dirfd, cstr(path), flags, mode)),
    readlinkat: (dirfd, path, buf, size) => int(s.readlinkat(dirfd, cstr(path), buf, size)),
    mkdirat: (dirfd, path, mode) => int(s.mkdirat(dirfd, cstr(path), mode)),
    mknodat: (dirfd, path, mode, dev) => int(s.mknodat(dirfd, cstr(path), mode, dev)),
    symlinkat: (target, dirfd, path) => int(s.symlinkat(cstr(target), dirfd, cstr(path))),
    linkat: (olddirfd, oldpath, newdirfd, newpath, flags) => int(s.linkat(olddirfd, cstr(oldpath), newdirfd, cstr(newpath), flags)),
    fchownat: (dirfd, path, uid, gid, flags) => int(s.fchownat(dirfd, cstr(path), uid, gid, flags)),
    fchmodat: (dirfd, path, mode, flags) => int(s.fchmodat(dirfd, cstr(path), mode, flags)),
    utimensat: (dirfd, path, times, flags) => int(s.utimensat(dirfd, cstr(path), times, flags)),
    lsetxattr: (path, name, value, size, flags) => int(s.lsetxattr(cstr(path), cstr(name), value, size, flags)),
    close: (fd) => int(s.close(fd)),
    pipe2: (fds, flags) => int(s.pipe2(new Uint8Array(fds.buffer), flags)),
    read: (fd, buf, count) => int(s.read(fd, buf, count)),
    write: (fd, buf, count) => int(s.write(fd, buf, count)),
    mknod: (path, mode, dev) => int(s.mknod(cstr(path), mode, dev)),
    mkdir: (path, mode) => int(s.mkdir(cstr(path), mode)),
    chmod: (path, mode) => int(s.chmod(cstr(path), mode)),
    symlink: (target, path) => int(s.symlink(cstr(target), cstr(path))),
    kill: (pid, sig) => int(s.kill(pid, sig)),
    setsid: () => int(s.setsid()),
    flock: (fd, op) => int(s.flock(fd, op)),
    memfdCreate: (name, flags) => int(s.memfd_create(cstr(name), flags)),
    fcntl: (fd, cmd, arg) => int(s.fcntl(fd, cmd, arg)),
    prctl: (option, arg2) => int(s.prctl(option, arg2, 0, 0, 0)),
    socket: (domain, type, protocol) => int(s.socket(domain, type, protocol)),
    ioctl: (fd, request, arg) => int(s.ioctl(fd, request, arg)),
  };
}
