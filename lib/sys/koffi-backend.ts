import { createRequire } from 'node:module';
import { syscallNumbers } from './constants.ts';
import type { RawLibc } from './libc.ts';

// koffi rather than ffi-napi/ref-napi: those no longer compile against
// Node 20's Node-API headers, while koffi ships prebuilt binaries in its
// platform packages and needs no install script.
type KoffiFn = (...args: unknown[]) => number;
interface Koffi {
  load(path: string): { func(signature: string): KoffiFn };
  errno(): number;
}

export function koffiLibc(): RawLibc {
  // Loaded through require so the bundle leaves koffi (a native addon) in node_modules.
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  const fn = (signature: string) => lib.func(signature);
  const syscall = fn('long syscall(long number, ...)');
  const prctl = fn('int prctl(int option, ...)');
  const ioctl = fn('int ioctl(int fd, unsigned long request, ...)');
  const { pivot_root, openat2 } = syscallNumbers(process.arch);
  const unshare = fn('int unshare(int flags)');
  const setns = fn('int setns(int fd, int nstype)');
  const sethostname = fn('int sethostname(const uint8_t *name, size_t len)');
  const mount = fn('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const umount2 = fn('int umount2(const char *target, int flags)');
  const chdir = fn('int chdir(const char *path)');
  const fchdir = fn('int fchdir(int fd)');
  const chroot = fn('int chroot(const char *path)');
  const open = fn('int open(const char *path, int flags, ...)');
  const openat = fn('int openat(int dirfd, const char *path, int flags, ...)');
  const readlinkat = fn('intptr_t readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)');
  const mkdirat = fn('int mkdirat(int dirfd, const char *path, uint32_t mode)');
  const mknodat = fn('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
  const symlinkat = fn('int symlinkat(const char *target, int dirfd, const char *path)');
  const linkat = fn('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)');
  const fchownat = fn('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)');
  const fchmodat = fn('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)');
  const utimensat = fn('int utimensat(int dirfd, const char *path, const uint8_t *times, int flags)');
  const lsetxattr = fn('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)');
  const close = fn('int close(int fd)');
  const pipe2 = fn('int pipe2(_Out_ int32_t *fds, int flags)');
  const read = fn('intptr_t read(int fd, _Out_ uint8_t *buf, size_t count)');
  const write = fn('intptr_t write(int fd, const uint8_t *buf, size_t count)');
  const mknod = fn('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  const mkdir = fn('int mkdir(const char *path, uint32_t mode)');
  const chmod = fn('int chmod(const char *path, uint32_t mode)');
  const symlink = fn('int symlink(const char *target, const char *path)');
  const kill = fn('int kill(int pid, int sig)');
  const setsid = fn('int setsid()');
  const flock = fn('int flock(int fd, int op)');
  const memfdCreate = fn('int memfd_create(const char *name, unsigned int flags)');
  const fcntl = fn('int fcntl(int fd, int cmd, ...)');
  const socket = fn('int socket(int domain, int type, int protocol)');

  return {
    errno: () => koffi.errno(),
    unshare: (flags) => unshare(flags),
    setns: (fd, nstype) => setns(fd, nstype),
    sethostname: (name, len) => sethostname(name, len),
    mount: (source, target, fstype, flags, data) => mount(source, target, fstype, flags, data),
    umount2: (target, flags) => umount2(target, flags),
    pivotRoot: (newRoot, putOld) => syscall(pivot_root, 'const char *', newRoot, 'const char *', putOld),
    chdir: (path) => chdir(path),
    fchdir: (fd) => fchdir(fd),
    chroot: (path) => chroot(path),
    open: (path, flags, mode) => open(path, flags, 'uint32_t', mode),
    openat2: (dirfd, path, how) =>
      syscall(openat2, 'int', dirfd, 'const char *', path, 'uint8_t *', how, 'size_t', how.length),
    openat: (dirfd, path, flags, mode) => openat(dirfd, path, flags, 'uint32_t', mode),
    readlinkat: (dirfd, path, buf, size) => readlinkat(dirfd, path, buf, size),
    mkdirat: (dirfd, path, mode) => mkdirat(dirfd, path, mode),
    mknodat: (dirfd, path, mode, dev) => mknodat(dirfd, path, mode, dev),
    symlinkat: (target, dirfd, path) => symlinkat(target, dirfd, path),
    linkat: (olddirfd, oldpath, newdirfd, newpath, flags) => linkat(olddirfd, oldpath, newdirfd, newpath, flags),
    fchownat: (dirfd, path, uid, gid, flags) => fchownat(dirfd, path, uid, gid, flags),
    fchmodat: (dirfd, path, mode, flags) => fchmodat(dirfd, path, mode, flags),
    utimensat: (dirfd, path, times, flags) => utimensat(dirfd, path, times, flags),
    lsetxattr: (path, name, value, size, flags) => lsetxattr(path, name, value, size, flags),
    close: (fd) => close(fd),
    pipe2: (fds, flags) => pipe2(fds, flags),
    read: (fd, buf, count) => read(fd, buf, count),
    write: (fd, buf, count) => write(fd, buf, count),
    mknod: (path, mode, dev) => mknod(path, mode, dev),
    mkdir: (path, mode) => mkdir(path, mode),
    chmod: (path, mode) => chmod(path, mode),
    symlink: (target, path) => symlink(target, path),
    kill: (pid, sig) => kill(pid, sig),
    setsid: () => setsid(),
    flock: (fd, op) => flock(fd, op),
    memfdCreate: (name, flags) => memfdCreate(name, flags),
    fcntl: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg),
    prctl: (option, arg2) => prctl(option, 'unsigned long', arg2, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0),
    socket: (domain, type, protocol) => socket(domain, type, protocol),
    ioctl: (fd, request, arg) => ioctl(fd, request, 'uint8_t *', arg),
  };
}
