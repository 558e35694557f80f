// What a pod's state.json holds: everything the other verbs (ps, logs, exec,
// stop, rm, inspect, gc) need, so that none of them has to ask the
// supervisor. Written only by the pod's supervisor, atomically.
import type { UserPlan } from '../spec/plan-types.ts';
import type { ContainerStatus } from '../supervisor/status.ts';

/** A process as the state names it: its pid, and its start time (field 22 of /proc/PID/stat), so that a reused pid is never mistaken for it. */
export interface ProcessRef {
  pid: number;
  startTime: string;
}

export interface ContainerRecord extends ContainerStatus {
  /** The current run's process, while it runs. */
  process: ProcessRef | null;
  /** What `exec` runs a command with; capabilities as a hex mask. */
  exec: { env: Record<string, string>; user: UserPlan; workingDir: string; capabilities: string; noNewPrivs: boolean; seccomp: boolean };
  /** The container's cgroup.procs files (none without cgroups). */
  cgroupProcs: string[];
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface PodRecord {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  /** Runs in the background under the shared supervisor (run -d), or in a foreground `minipod run`. */
  detached: boolean;
  supervisor: ProcessRef;
  phase: PodPhase;
  reason: string | null;
  /** Why minipod itself failed the pod (a start that failed, the pause gone), as kubectl shows a pod's status.message. */
  message?: string | null;
  exitCode: number | null;
  createdAt: number;
  finishedAt: number | null;
  /** The manifest as given (for inspect). */
  manifest: unknown;
  pause: ProcessRef | null;
  /** The pod's cgroup directories, one per hierarchy (for gc). */
  cgroups: string[];
  /** `<root>/logs/<namespace>_<name>_<uid>`: one directory per container, one file per run, as the kubelet lays out /var/log/pods. */
  logDir: string;
  initContainers: ContainerRecord[];
  containers: ContainerRecord[];
}

export const isFinished = (phase: PodPhase) => phase === 'Succeeded' || phase === 'Failed';
