import { cgroupArgs } from '../cgroup/join.ts';
import type { RuntimeContext } from '../context.ts';
import { loopbackUp } from '../net/loopback.ts';
import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, O_CLOEXEC,
  O_RDONLY,
} from '../sys/constants.ts';
import type { Child } from '../sys/process.ts';

export interface SandboxSpec {
  hostname: string;
  /** Directory on which the pod's /dev/shm tmpfs is mounted, inside the pod's mount namespace only. */
  shmDir: string;
  /** spec.hostNetwork/hostIPC/hostPID: keep the host's namespace (hostNetwork keeps its UTS namespace too). */
  host: { network: boolean; ipc: boolean; pid: boolean };
  /** emptyDir volumes with medium Memory: a tmpfs on each directory, in the pod's mount namespace. */
  memoryVolumes: { dir: string; sizeBytes: bigint | null }[];
  /** The pause's cgroup.procs files, one per hierarchy (none without cgroups). */
  cgroupProcs: readonly string[];
  /** An empty directory the pause mounts its own empty root on (minipod-init -P). */
  pauseRoot: string;
}

export interface Sandbox {
  /** Host PID of the pause: /proc/<pid>/ns/* are the pod's namespaces, but for mnt. */
  readonly pid: number;
  readonly child: Child;
  /**
   * The pod's mount namespace (its /dev/shm, its memory emptyDirs), which
   * containers start from: held by this descriptor, not by the pause, which
   * lives in an empty one of its own. close() lets it go.
   */
  readonly mountNamespace: number;
  close(): void;
}

/** The namespaces the pause creates and every container joins (pid only with shareProcessNamespace). */
export function sandboxNamespaces(host: SandboxSpec['host']): number {
  return CLONE_NEWNS
    | (host.network ? 0 : CLONE_NEWNET | CLONE_NEWUTS)
    | (host.ipc ? 0 : CLONE_NEWIPC)
    | (host.pid ? 0 : CLONE_NEWPID);
}

/**
 * Start the pause in new namespaces. Unless the pod asks for the host's, the
 * pause gets its own PID namespace and is PID 1 there, as with containerd:
 * with shareProcessNamespace the containers join it and it reaps their
 * orphans, and without it nothing of the host's process tree shows through
 * it. The pod's mount namespace is a private copy of the host's that holds
 * the pod's /dev/shm and its memory-backed emptyDirs, so those tmpfs never
 * appear on the host and disappear with the pod.
 */
export function startSandbox(ctx: RuntimeContext, spec: SandboxSpec): Sandbox {
  const { libc } = ctx.host;
  const cgroups = cgroupArgs(ctx, spec.cgroupProcs);
  const held = { mnt: -1 };
  let child: Child;
  try {
    child = spawnPause(ctx, spec, cgroups.args, held);
  } catch (err) {
    cgroups.close();
    if (held.mnt >= 0) libc.close(held.mnt);
    throw err;
  }
  void child.exited.then(cgroups.close);
  return { pid: child.pid, child, mountNamespace: held.mnt, close: () => libc.close(held.mnt) };
}

function spawnPause(ctx: RuntimeContext, spec: SandboxSpec, cgroupArgs: string[], held: { mnt: number }): Child {
  const { libc, spawner } = ctx.host;
  return ctx.threads.run(() => {
    libc.unshare(sandboxNamespaces(spec.host));
    libc.mount(null, '/', null, MS_REC | MS_PRIVATE);
    if (!spec.host.ipc) libc.mount('shm', spec.shmDir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777,size=65536k');
    for (const { dir, sizeBytes } of spec.memoryVolumes) {
      // Without sizeLimit the kernel's default (half of RAM), as the kubelet leaves it.
      libc.mount('tmpfs', dir, 'tmpfs', MS_NOSUID | MS_NODEV, sizeBytes === null ? 'mode=0777' : `mode=0777,size=${sizeBytes}`);
    }
    if (!spec.host.network) {
      libc.sethostname(spec.hostname);
      loopbackUp(libc);
    }
    held.mnt = libc.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC);
    // Shown as /pause, as in Kubernetes, rather than the path of its sealed copy.
    return spawner.spawn({
      path: ctx.initExec, args: ['-a', '/pause', '-d', ...cgroupArgs, '-P', spec.pauseRoot, '--', ctx.pauseExec], env: {}, output: 'ignore',
    });
  });
}
