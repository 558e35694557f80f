import type { RuntimeContext } from '../context.ts';
import { MinipodError } from '../errors.ts';
import { applyRootfs } from '../rootfs/apply.ts';
import { checkMountPoints } from '../rootfs/check.ts';
import { planRootfs } from '../rootfs/plan.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { ContainerPlan } from '../spec/plan-types.ts';
import type { ContainerLayer } from '../state/pod-dir.ts';
import { CLONE_NEWNS, CLONE_NEWPID, NAMESPACE_FLAGS, type NamespaceKind, O_CLOEXEC, O_RDONLY } from '../sys/constants.ts';
import { ENOENT } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import type { Child } from '../sys/process.ts';
import { MASKED_PATHS, READONLY_PATHS } from '../security/paths.ts';
import { HelperChannels, privilegeArgs, userArgs } from './helper-channels.ts';

export interface ContainerProcess {
  readonly child: Child;
  /** After the child exited: the exec helper's failure message, or null if it reached exec. */
  takeStartError(): string | null;
}

/** What a container takes from its pod. */
export interface PodRuntime {
  sharePid: boolean;
  /** hostPID: the container stays in the host's PID namespace, as the pause does. */
  hostPid: boolean;
  /** The pod's /dev/shm (the host's with hostIPC). */
  shm: string;
  /** Volume name -> source path (see prepareVolumes). */
  volumes: ReadonlyMap<string, string>;
  /** This run's writable layer. */
  layer: ContainerLayer;
  /** The container's cgroup.procs files, one per hierarchy (none without cgroups). */
  cgroupProcs: readonly string[];
}

/**
 * Join order as youki keeps it: the pod's mount namespace last, because
 * entering it resets the thread's root and working directory.
 */
function joinedNamespaces(sharePid: boolean): NamespaceKind[] {
  return sharePid ? ['net', 'ipc', 'uts', 'pid'] : ['net', 'ipc', 'uts'];
}

export function startContainer(ctx: RuntimeContext, sandbox: Sandbox, pod: PodRuntime, container: ContainerPlan): ContainerProcess {
  const { libc } = ctx.host;
  const ops = planRootfs({
    layers: container.layers,
    layer: pod.layer,
    missing: checkMountPoints(container.layers),
    podShm: pod.shm,
    mounts: container.mounts.map((m) => ({ ...m, source: pod.volumes.get(m.volume)! })),
    workingDir: container.workingDir,
    readOnlyRootFilesystem: container.readOnlyRootFilesystem,
    privileged: container.security.privileged,
    helperProcfs: pod.sharePid || pod.hostPid ? sandbox.procfs : '/proc',
  });

  const joined: [NamespaceKind, number, string][] = [];
  const channels = HelperChannels.open(ctx, pod.cgroupProcs);
  try {
    for (const kind of joinedNamespaces(pod.sharePid)) {
      const path = `/proc/${sandbox.pid}/ns/${kind}`;
      joined.push([kind, openNamespace(ctx, path, sandbox.pid), path]);
    }
    const child = ctx.threads.run(() => {
      for (const [kind, fd, path] of joined) libc.setns(fd, NAMESPACE_FLAGS[kind], path);
      libc.setns(sandbox.mountNamespace, CLONE_NEWNS, "the pod's mount namespace");
      libc.unshare(CLONE_NEWNS | (pod.sharePid || pod.hostPid ? 0 : CLONE_NEWPID));
      applyRootfs(libc, ops);
      const helper = [
        '-d', '-p', ...channels.args, '-w', container.workingDir, ...userArgs(container.user),
        ...privilegeArgs({ ...container.security, capabilities: container.security.capabilities.toString(16) }),
        // What the kernel exposes of the host under /proc and /sys, hidden unless privileged.
        ...(container.security.privileged ? [] : [...MASKED_PATHS.flatMap((p) => ['-k', p]), ...READONLY_PATHS.flatMap((p) => ['-o', p])]),
        // On the host's PID namespace no PID 1 of ours takes the app's orphans down with it: the helper stays to do so.
        ...(pod.hostPid ? ['-r'] : []), '--',
      ];
      return ctx.spawnHelper({ args: [...helper, ...container.argv], env: container.env, output: 'pipe' }, channels.fds);
    });
    return { child, takeStartError: () => channels.takeStartError() };
  } catch (err) {
    channels.close();
    throw err;
  } finally {
    for (const [, fd] of joined) libc.close(fd);
  }
}

function openNamespace(ctx: RuntimeContext, path: string, pausePid: number): number {
  try {
    return ctx.host.libc.open(path, O_RDONLY | O_CLOEXEC);
  } catch (err) {
    if (err instanceof SyscallError && err.errno === ENOENT) {
      throw new MinipodError(`the pod sandbox (pause, pid ${pausePid}) is gone`, { cause: err });
    }
    throw err;
  }
}
