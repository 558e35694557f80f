import type { RuntimeContext } from '../context.ts';
import { O_CLOEXEC, O_WRONLY } from '../sys/constants.ts';

/**
 * minipod-init's `-c` options for a process to join its cgroups itself,
 * before it execs: each cgroup.procs file opened here, on the host, and
 * reopened by the child through /proc/<runtime>/fd/N (it may already be
 * past pivot_root). The descriptors must stay open until the child is gone.
 */
export function cgroupArgs(ctx: RuntimeContext, procs: readonly string[]): { args: string[]; close(): void } {
  const { libc } = ctx.host;
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds.splice(0)) libc.close(fd);
  };
  try {
    for (const file of procs) fds.push(libc.open(file, O_WRONLY | O_CLOEXEC));
  } catch (err) {
    close();
    throw err;
  }
  return { args: fds.flatMap((fd) => ['-c', ctx.fdPath(fd)]), close };
}
