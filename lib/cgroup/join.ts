import type { RuntimeContext } from '../context.ts';
import { O_CLOEXEC, O_WRONLY } from '../sys/constants.ts';

/**
 * minipod-init's `-c` options for a process to join its cgroups itself,
 * before it execs: each cgroup.procs file opened here, on the host, and
 * inherited by the child (it may already be past pivot_root), which writes
 * to its copy. `fds` are for ctx.spawnHelper to pass on.
 */
export function cgroupArgs(ctx: RuntimeContext, procs: readonly string[]): { args: string[]; fds: readonly number[]; close(): void } {
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
  return { args: fds.flatMap((fd) => ['-c', String(fd)]), fds: [...fds], close };
}
