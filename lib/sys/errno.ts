// errno numbers to their names, so an error reads `setns(...): EPERM` rather
// than a bare number. Linux generic values (asm-generic/errno*.h).
const NAMES = [
  '', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD',
  'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
];
const HIGHER: Record<number, string> = {
  61: 'ENODATA', 75: 'EOVERFLOW', 88: 'ENOTSOCK', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE',
  110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 122: 'EDQUOT',
};

export function errnoName(errno: number): string {
  return NAMES[errno] || HIGHER[errno] || `errno ${errno}`;
}

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENOTDIR = 20;
export const EINVAL = 22;
export const ENOSYS = 38;
export const ELOOP = 40;
