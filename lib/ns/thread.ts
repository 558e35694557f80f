import { CLONE_FS, NAMESPACE_FLAGS, type NamespaceKind, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY } from '../sys/constants.ts';
import { MinipodError } from '../errors.ts';
import type { Libc } from '../sys/libc.ts';

// Namespaces belong to threads, and Node and Deno run JavaScript on one
// thread among several. The runtime switches that thread into a pod's
// namespaces, forks the child there (children inherit the thread's
// namespaces) and switches back. Every switch is undone in `finally`, so the
// runtime's own thread never stays in a pod.

/** The namespaces the runtime thread returns to; user namespaces are never switched. */
const SAVED: NamespaceKind[] = ['mnt', 'net', 'ipc', 'uts', 'pid'];

export class ThreadNamespaces {
  private constructor(
    private readonly libc: Libc,
    private readonly fds: Map<NamespaceKind, number>,
    private readonly cwd: number,
  ) {}

  /** Call once, before any switch. */
  static save(libc: Libc): ThreadNamespaces {
    const fds = new Map<NamespaceKind, number>();
    try {
      for (const kind of SAVED) fds.set(kind, libc.open(`/proc/thread-self/ns/${kind}`, O_RDONLY | O_CLOEXEC));
      const cwd = libc.open('.', O_PATH | O_DIRECTORY | O_CLOEXEC);
      return new ThreadNamespaces(libc, fds, cwd);
    } catch (err) {
      for (const fd of fds.values()) libc.close(fd);
      throw err;
    }
  }

  /**
   * Run `fn` with this thread free to enter other namespaces, and return to
   * the saved ones afterwards, whatever `fn` did or threw.
   */
  run<T>(fn: () => T): T {
    // setns into a mount namespace is refused while the thread shares its
    // fs_struct (root, cwd) with other threads; give this thread its own
    // copy, every time: a thread the runtime starts later (Deno does, in a
    // long-lived process) shares the main thread's again.
    this.libc.unshare(CLONE_FS);
    try {
      return fn();
    } finally {
      this.restore();
    }
  }

  private restore(): void {
    try {
      // The mount namespace first: entering it also resets root and cwd.
      for (const [kind, fd] of this.fds) this.libc.setns(fd, NAMESPACE_FLAGS[kind], `/proc/thread-self/ns/${kind}`);
      this.libc.fchdir(this.cwd, 'the saved working directory');
    } catch (err) {
      // A runtime thread stuck in a pod's namespace must not go on.
      throw new MinipodError(`cannot return the runtime thread to its own namespaces: ${(err as Error).message}`, { cause: err });
    }
  }

  close(): void {
    for (const fd of this.fds.values()) this.libc.close(fd);
    this.libc.close(this.cwd);
    this.fds.clear();
  }
}
