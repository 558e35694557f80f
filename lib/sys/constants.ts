// Linux ABI numbers the runtime needs. Values are the kernel's (uapi headers),
// identical on x86_64 and aarch64 unless a table below says otherwise.

export const CLONE_FS = 0x00000200;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_STRICTATIME = 0x1000000;

export const MNT_DETACH = 0x2;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOFOLLOW = 0o400000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const O_PATH = 0o10000000;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;

export const LOCK_EX = 2;
export const LOCK_NB = 4;

// memfd_create(2) and file seals: a sealed in-memory copy of a binary.
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const F_ADD_SEALS = 1033;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const F_SEAL_ALL = 0x1 | 0x2 | 0x4 | 0x8; // SEAL, SHRINK, GROW, WRITE

// openat2(2) resolve flags.
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/**
 * glibc's makedev(): bits 0-7 the minor's low 8, 8-19 the major's low 12,
 * 20-43 the rest of the minor, 44- the rest of the major. Arithmetic, not
 * bit operators: a dev_t is 64 bits and JavaScript's shifts are 32. (The
 * kernel keeps 12 bits of major and 20 of minor; glibc refuses the rest.)
 */
export function makedev(major: number, minor: number): number {
  return (minor % 256) + (major % 4096) * 2 ** 8 + Math.floor(minor / 256) * 2 ** 20 + Math.floor(major / 4096) * 2 ** 44;
}

export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;

// Pseudo-terminals: what posix_openpt, unlockpt and ptsname do, as ioctls.
export const O_RDWR = 2;
export const O_NOCTTY = 0o400;
export const TIOCSPTLCK = 0x40045431;
export const TIOCGPTN = 0x80045430;
export const TIOCSWINSZ = 0x5414;

export const SIGKILL = 9;
export const SIGTERM = 15;

// openat2 came after the syscall tables were unified: 437 everywhere.
const SYSCALLS: Record<string, { pivot_root: number; openat2: number }> = {
  x64: { pivot_root: 155, openat2: 437 },
  arm64: { pivot_root: 41, openat2: 437 },
};

export function syscallNumbers(arch: string): { pivot_root: number; openat2: number } {
  const numbers = SYSCALLS[arch];
  if (!numbers) throw new Error(`minipod does not know the syscall numbers of ${arch}`);
  return numbers;
}

export const NAMESPACE_FLAGS = {
  mnt: CLONE_NEWNS,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  pid: CLONE_NEWPID,
  net: CLONE_NEWNET,
  cgroup: CLONE_NEWCGROUP,
  user: CLONE_NEWUSER,
} as const;

export type NamespaceKind = keyof typeof NAMESPACE_FLAGS;

const FLAG_NAMES: [number, string][] = Object.entries(NAMESPACE_FLAGS).map(([kind, flag]) => [
  flag,
  `CLONE_NEW${kind === 'mnt' ? 'NS' : kind.toUpperCase()}`,
]);

/** `CLONE_NEWNET|CLONE_NEWUTS` for error messages. */
export function cloneFlagNames(flags: number): string {
  const names = FLAG_NAMES.filter(([flag]) => flags & flag).map(([, name]) => name);
  if (flags & CLONE_FS) names.unshift('CLONE_FS');
  return names.join('|') || String(flags);
}
