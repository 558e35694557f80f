import type { CgroupStats } from '../cgroup/pod-cgroups.ts';

// What the supervisor reports about a pod and its containers, in kubelet's
// terms; lib/status turns it into a table or a v1 PodStatus.

/**
 * kubelet's reasons for a terminated container: Completed for exit 0, Error
 * otherwise (a container stopped with the pod included: 143 after SIGTERM,
 * 137 after SIGKILL), ContainerCannotRun when its command could not be
 * executed, DeadlineExceeded when the pod's activeDeadlineSeconds ended it,
 * OOMKilled when the kernel's OOM killer struck in its memory cgroup.
 */
export type ContainerReason = 'Completed' | 'Error' | 'ContainerCannotRun' | 'DeadlineExceeded' | 'OOMKilled';

/** One run of a container that has ended; times in ms since the epoch. */
export interface Termination {
  exitCode: number;
  reason: ContainerReason;
  /** Why it could not run (the exec error), for ContainerCannotRun. */
  message: string | null;
  startedAt: number;
  finishedAt: number;
}

export interface ContainerStatus {
  name: string;
  /** init: an init container run to completion; sidecar: an init container with restartPolicy Always. */
  kind: 'init' | 'sidecar' | 'app';
  /** The image as the manifest wrote it. */
  image: string;
  /** `repository@sha256:...` for an image of the store, '' for a directory image. */
  imageID: string;
  restarts: number;
  /** waiting: not started yet (PodInitializing), or ended and due to restart (CrashLoopBackOff). */
  state: 'waiting' | 'running' | 'terminated';
  /** When the current run started, while running. */
  startedAt: number | null;
  /** The run that ended last, and the one before it (kubelet's lastState of a terminated container). */
  last: Termination | null;
  previous: Termination | null;
  /** From its cgroup, with --stats: memory and pids when the pod began to stop, peak and cpu at the end. */
  usage: CgroupStats | null;
}

export interface PodResult {
  id: string;
  name: string;
  node: { name: string; ip: string };
  /** '' when the pod has no address of its own. */
  podIP: string;
  phase: 'Succeeded' | 'Failed';
  /** kubelet's pod-level reason: DeadlineExceeded, or null. */
  reason: 'DeadlineExceeded' | null;
  /**
   * 0 when every app container exited 0; else the first failure's code
   * (an init container's included), 128+signal when minipod was stopped,
   * 124 when the deadline ended the pod (timeout(1)'s code).
   */
  exitCode: number;
  /** When the pod started and ended, in ms since the epoch. */
  startedAt: number;
  finishedAt: number;
  initContainers: ContainerStatus[];
  containers: ContainerStatus[];
}

/** timeout(1)'s exit code, for a pod its activeDeadlineSeconds ended. */
export const DEADLINE_EXIT_CODE = 124;
