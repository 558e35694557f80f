import { cgroupArgs } from '../cgroup/join.ts';
import type { RuntimeContext } from '../context.ts';
import { privilegeArgs } from '../container/helper-channels.ts';
import { MinipodError } from '../errors.ts';
import { loopbackUp } from '../net/loopback.ts';
import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, O_CLOEXEC,
  O_RDONLY,
} from '../sys/constants.ts';
import { EINTR } from '../sys/errno.ts';
import { type Libc, SyscallError } from '../sys/libc.ts';
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
  /**
   * An empty directory: in the pod's mount namespace the pause's helper
   * mounts a procfs of the pod's PID namespace on it (see Sandbox.procfs),
   * in the pause's own, its empty root over that (minipod-init -P).
   */
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
  /**
   * In the pod's mount namespace, a procfs of the pod's PID namespace (the
   * host's with hostPID): containers that join that namespace are started
   * from it, as only a procfs in which the helper is visible lets it be
   * exec'd as /proc/self/fd/N, and this one holds nothing of the host's.
   */
  readonly procfs: string;
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
  const [statusRead, statusWrite] = libc.pipe2(O_CLOEXEC);
  let writer = true;
  let child: Child;
  try {
    child = spawnPause(ctx, spec, cgroups, statusWrite, held);
    libc.close(statusWrite);
    writer = false;
    // Containers start from the pod's procfs, there once the pause's helper
    // reached its exec (end of file: the exec closed the pipe).
    const failure = readToEnd(libc, statusRead);
    if (failure) throw new MinipodError(`the pod sandbox (pause) could not start: ${failure}`);
  } catch (err) {
    if (writer) libc.close(statusWrite);
    if (held.mnt >= 0) libc.close(held.mnt);
    throw err;
  } finally {
    libc.close(statusRead);
    cgroups.close();
  }
  return { pid: child.pid, child, mountNamespace: held.mnt, procfs: spec.pauseRoot, close: () => libc.close(held.mnt) };
}

function readToEnd(libc: Libc, fd: number): string {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const buf = new Uint8Array(4096);
    let n: number;
    try {
      n = libc.read(fd, buf);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === EINTR) continue;
      throw err;
    }
    if (n === 0) return text.trim();
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}

/**
 * The pause only sleeps, reaps and exits on a signal: it keeps no
 * capability, gets no_new_privs and the default filter, so that a container
 * of the pod that reaches it (shareProcessNamespace, ptrace) finds nothing
 * to borrow. The helper applies them after it has mounted the pod's procfs
 * and pivoted into the pause's empty root, the steps that needed them.
 */
const pausePrivileges = () => privilegeArgs({ capabilities: '0', noNewPrivs: true, seccomp: true });

function spawnPause(ctx: RuntimeContext, spec: SandboxSpec, cgroups: { args: string[]; fds: readonly number[] }, status: number, held: { mnt: number }): Child {
  const { libc } = ctx.host;
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
    return ctx.spawnHelper({
      args: ['-a', '/pause', '-d', '-s', String(status), ...cgroups.args, '-P', spec.pauseRoot, ...pausePrivileges(), '--', `/proc/self/fd/${ctx.pauseFd}`],
      env: {}, output: 'ignore',
    }, [status, ...cgroups.fds, ctx.pauseFd]);
  });
}
