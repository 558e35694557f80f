import { AF_INET, IFF_RUNNING, IFF_UP, SIOCGIFFLAGS, SIOCSIFFLAGS, SOCK_CLOEXEC, SOCK_DGRAM } from '../sys/constants.ts';
import type { Libc } from '../sys/libc.ts';

/** sizeof(struct ifreq) on 64-bit Linux: a 16-byte name, then a union whose first member here is the short flags. */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/**
 * Bring `lo` up in the network namespace of the calling thread. A socket
 * belongs to the namespace of the thread that creates it, so this must run
 * while the thread is inside the pod's namespace.
 */
export function loopbackUp(libc: Libc): void {
  const fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    const ifr = new Uint8Array(IFREQ_SIZE);
    ifr.set(new TextEncoder().encode('lo').subarray(0, IFNAMSIZ - 1));
    libc.ioctl(fd, SIOCGIFFLAGS, ifr, 'lo');
    const view = new DataView(ifr.buffer);
    view.setUint16(IFNAMSIZ, view.getUint16(IFNAMSIZ, true) | IFF_UP | IFF_RUNNING, true);
    libc.ioctl(fd, SIOCSIFFLAGS, ifr, 'lo');
  } finally {
    libc.close(fd);
  }
}
