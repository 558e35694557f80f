// A pseudo-terminal for `exec -t`, through the libc alone (no native addon):
// posix_openpt, unlockpt and ptsname are an open of ptmx and two ioctls. It
// is made in the container's own devpts instance, as runc does, so that the
// command's terminal has a name there (`tty` prints /dev/pts/N); both ends
// are opened with openat2 inside the container's root, where no symlink the
// container made can lead elsewhere.
import type { Libc } from '../sys/libc.ts';
import {
  O_CLOEXEC, O_DIRECTORY, O_NOCTTY, O_NONBLOCK, O_PATH, O_RDWR, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, TIOCGPTN,
  TIOCSPTLCK, TIOCSWINSZ,
} from '../sys/constants.ts';
import { EAGAIN, EIO } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';

export class Pty {
  private constructor(
    private readonly libc: Libc,
    readonly master: number,
    readonly slave: number,
  ) {}

  /** In the devpts of the container whose process is `pid`. */
  static open(libc: Libc, pid: number): Pty {
    const root = libc.open(`/proc/${pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
    const inRoot = (path: string, flags: number) =>
      libc.openat2(root, path, { flags: flags | O_CLOEXEC, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS }, `/proc/${pid}/root`);
    try {
      const master = inRoot('dev/pts/ptmx', O_RDWR | O_NOCTTY | O_NONBLOCK);
      try {
        libc.ioctl(master, TIOCSPTLCK, new Uint8Array(4), 'ptmx unlock');
        const n = new Uint8Array(4);
        libc.ioctl(master, TIOCGPTN, n, 'ptmx number');
        return new Pty(libc, master, inRoot(`dev/pts/${new DataView(n.buffer).getUint32(0, true)}`, O_RDWR | O_NOCTTY));
      } catch (err) {
        libc.close(master);
        throw err;
      }
    } finally {
      libc.close(root);
    }
  }

  resize(rows: number, cols: number): void {
    const size = new Uint8Array(8);
    const view = new DataView(size.buffer);
    view.setUint16(0, rows, true);
    view.setUint16(2, cols, true);
    this.libc.ioctl(this.master, TIOCSWINSZ, size, 'ptmx window size');
  }

  /** What the terminal has for us now; null once the other side is closed for good (EIO). */
  read(): Uint8Array | null {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const buf = new Uint8Array(65536);
      try {
        const n = this.libc.read(this.master, buf);
        if (n === 0) return chunks.length ? concat(chunks) : null;
        chunks.push(buf.subarray(0, n));
      } catch (err) {
        if (err instanceof SyscallError && err.errno === EAGAIN) return concat(chunks);
        if (err instanceof SyscallError && err.errno === EIO) return chunks.length ? concat(chunks) : null;
        throw err;
      }
    }
  }

  write(data: Uint8Array): void {
    for (let done = 0; done < data.length;) {
      try {
        done += this.libc.write(this.master, data.subarray(done));
      } catch (err) {
        if (!(err instanceof SyscallError && err.errno === EAGAIN)) throw err;
      }
    }
  }

  close(): void {
    this.libc.close(this.slave);
    this.libc.close(this.master);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
