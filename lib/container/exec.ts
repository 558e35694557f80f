// `minipod exec`: a command in a running container's namespaces, in its
// cgroups, as its user, in its working directory, with its environment, its
// capabilities and seccomp filter. All the namespaces are joined on the
// runtime's thread, the mount one last (as runc's nsexec enters mnt before
// it forks into the PID namespace): the helper is in the container's tree
// from its fork, never in the host's, where a process of the container
// allowed to ptrace could follow /proc/<helper>/root. It is exec'd as
// /proc/self/fd/N through the container's procfs, in which it is visible.
import type { RuntimeContext } from '../context.ts';
import { MinipodError } from '../errors.ts';
import type { ContainerRecord } from '../state/record.ts';
import { NAMESPACE_FLAGS, type NamespaceKind, O_CLOEXEC, O_RDONLY } from '../sys/constants.ts';
import { ENOENT } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import type { Child } from '../sys/process.ts';
import { HelperChannels, privilegeArgs, userArgs } from './helper-channels.ts';

// No cgroup namespace: minipod never makes one (a container's cgroups are
// joined by the helper, -c). mnt last: entering it resets the thread's root and cwd.
const JOINED: NamespaceKind[] = ['ipc', 'uts', 'net', 'pid', 'mnt'];

export interface ExecOptions {
  argv: string[];
  /** Pass the runtime's stdin (exec -i). */
  stdin: boolean;
  /** A pseudo-terminal's slave for the command (exec -t), as the runtime holds it. */
  tty: number | null;
}

export function execInContainer(ctx: RuntimeContext, container: ContainerRecord, pid: number, opts: ExecOptions) {
  const { libc } = ctx.host;
  const fds: [NamespaceKind, number, string][] = [];
  const channels = HelperChannels.open(ctx, container.cgroupProcs);
  try {
    for (const kind of JOINED) {
      const path = `/proc/${pid}/ns/${kind}`;
      try {
        fds.push([kind, libc.open(path, O_RDONLY | O_CLOEXEC), path]);
      } catch (err) {
        if (!(err instanceof SyscallError && err.errno === ENOENT)) throw err;
        throw new MinipodError(`container "${container.name}" is not running (pid ${pid} is gone)`, { cause: err });
      }
    }
    const { env, user, workingDir } = container.exec;
    const child: Child = ctx.threads.run(() => {
      for (const [kind, fd, path] of fds) libc.setns(fd, NAMESPACE_FLAGS[kind], path);
      const helper = [
        '-d', ...channels.args, ...(opts.tty === null ? [] : ['-T', String(opts.tty)]),
        '-w', workingDir, ...userArgs(user), ...privilegeArgs(container.exec), '--',
      ];
      return ctx.spawnHelper({
        args: [...helper, ...opts.argv], env,
        // With -t the helper puts the terminal on 0, 1 and 2 itself. Nothing
        // here may be opened by path: this thread is in the container's tree.
        output: 'inherit', stdin: opts.stdin && opts.tty === null ? 'inherit' : 'empty',
      }, [...channels.fds, ...(opts.tty === null ? [] : [opts.tty])]);
    });
    return { child, takeStartError: () => channels.takeStartError() };
  } catch (err) {
    channels.close();
    throw err;
  } finally {
    for (const [, fd] of fds) libc.close(fd);
  }
}
