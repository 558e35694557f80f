// `minipod exec`: a command in a running container's namespaces (net, ipc,
// uts, pid on the runtime's thread; mnt in the helper, which must first be
// exec'd from the host's tree), in its cgroups, as its user, in its working
// directory, with its environment, its capabilities and seccomp filter.
import type { RuntimeContext } from '../context.ts';
import { MinipodError } from '../errors.ts';
import type { ContainerRecord } from '../state/record.ts';
import { NAMESPACE_FLAGS, type NamespaceKind, O_CLOEXEC, O_RDONLY } from '../sys/constants.ts';
import { ENOENT } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import type { Child } from '../sys/process.ts';
import { HelperChannels, privilegeArgs, userArgs } from './helper-channels.ts';

// No cgroup namespace: minipod never makes one (a container's cgroups are joined by the helper, -c).
const JOINED: NamespaceKind[] = ['ipc', 'uts', 'net', 'pid'];

export interface ExecOptions {
  argv: string[];
  /** Pass the runtime's stdin (exec -i). */
  stdin: boolean;
  /** A pseudo-terminal's slave for the command (exec -t), as the runtime holds it. */
  tty: number | null;
}

export function execInContainer(ctx: RuntimeContext, container: ContainerRecord, pid: number, opts: ExecOptions) {
  const { libc, spawner } = ctx.host;
  const fds: [NamespaceKind, number, string][] = [];
  const channels = HelperChannels.open(ctx, container.cgroupProcs);
  try {
    for (const kind of [...JOINED, 'mnt'] as const) {
      const path = `/proc/${pid}/ns/${kind}`;
      try {
        fds.push([kind, libc.open(path, O_RDONLY | O_CLOEXEC), path]);
      } catch (err) {
        if (!(err instanceof SyscallError && err.errno === ENOENT)) throw err;
        throw new MinipodError(`container "${container.name}" is not running (pid ${pid} is gone)`, { cause: err });
      }
    }
    const mnt = fds.find(([kind]) => kind === 'mnt')![1];
    const { env, user, workingDir } = container.exec;
    const child: Child = ctx.threads.run(() => {
      for (const [kind, fd, path] of fds) if (kind !== 'mnt') libc.setns(fd, NAMESPACE_FLAGS[kind], path);
      const helper = [
        '-d', ...channels.args, '-m', ctx.fdPath(mnt), ...(opts.tty === null ? [] : ['-T', ctx.fdPath(opts.tty)]),
        '-w', workingDir, ...userArgs(user), ...privilegeArgs(container.exec), '--',
      ];
      return spawner.spawn({
        path: ctx.initExec, args: [...helper, ...opts.argv], env,
        output: opts.tty === null ? 'inherit' : 'ignore', ...(opts.stdin && opts.tty === null ? { stdin: 'inherit' as const } : {}),
      });
    });
    // The mount namespace's descriptor, like the channels, until the child is gone: the helper opens it when it gets there.
    const closeMnt = () => libc.close(mnt);
    fds.splice(fds.findIndex(([kind]) => kind === 'mnt'), 1);
    return {
      child,
      takeStartError: () => {
        closeMnt();
        return channels.takeStartError();
      },
    };
  } catch (err) {
    channels.close();
    throw err;
  } finally {
    for (const [, fd] of fds) libc.close(fd);
  }
}
