// A pseudo-terminal for `exec -t`, through the libc alone (no native addon):
// posix_openpt, unlockpt and ptsname are an open of /dev/ptmx and two ioctls.
import type { Libc } from '../sys/libc.ts';
import { O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDWR, TIOCGPTN, TIOCSPTLCK, TIOCSWINSZ } from '../sys/constants.ts';
import { EAGAIN, EIO } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';

export class Pty {
  private constructor(
    private readonly libc: Libc,
    readonly master: number,
    readonly slave: number,
  ) {}

  static open(libc: Libc): Pty {
    const master = libc.open('/dev/ptmx', O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    try {
      libc.ioctl(master, TIOCSPTLCK, new Uint8Array(4), 'ptmx unlock');
      const n = new Uint8Array(4);
      libc.ioctl(master, TIOCGPTN, n, 'ptmx number');
      const slave = libc.open(`/dev/pts/${new DataView(n.buffer).getUint32(0, true)}`, O_RDWR | O_NOCTTY | O_CLOEXEC);
      return new Pty(libc, master, slave);
    } catch (err) {
      libc.close(master);
      throw err;
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
