// A finished pod as Kubernetes reports it: the v1 PodStatus that
// `kubectl get pod -o json` shows under .status, with kubelet's field names
// and values. What minipod does not know (a pod IP, which its pods do not
// have off the host's network, containerID, QoS) is left out, not invented.
import type { IContainerState, IContainerStateTerminated, IContainerStatus, IPodStatus } from 'kubernetes-models/v1';
import type { ContainerStatus, PodResult, Termination } from '../supervisor/status.ts';
import { waitingReason } from './table.ts';

/** metav1.Time: RFC 3339 in UTC, to the second, as the API server writes it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function terminated(t: Termination): IContainerStateTerminated {
  return {
    exitCode: t.exitCode,
    reason: t.reason,
    ...(t.message ? { message: t.message } : {}),
    startedAt: rfc3339(t.startedAt),
    finishedAt: rfc3339(t.finishedAt),
  };
}

function state(c: ContainerStatus): IContainerState {
  if (c.state === 'running') return { running: { startedAt: rfc3339(c.startedAt!) } };
  if (c.state === 'terminated' && c.last) return { terminated: terminated(c.last) };
  return { waiting: { reason: waitingReason(c) } };
}

function lastState(c: ContainerStatus): IContainerState {
  const before = c.state === 'terminated' ? c.previous : c.last;
  return before ? { terminated: terminated(before) } : {};
}

export function containerStatus(c: ContainerStatus): IContainerStatus {
  return {
    name: c.name,
    state: state(c),
    lastState: lastState(c),
    // Without readiness probes kubelet reports a running container as ready; at the end none runs.
    ready: c.state === 'running',
    restartCount: c.restarts,
    image: c.image,
    // Required by the API; kubelet leaves it empty when it has no image digest (a directory image).
    imageID: c.imageID,
    started: c.state === 'running',
  };
}

export function podStatus(pod: PodResult): IPodStatus {
  return {
    phase: pod.phase,
    // kubelet's words for a pod its activeDeadlineSeconds ended.
    ...(pod.reason === 'DeadlineExceeded' ? { reason: pod.reason, message: 'Pod was active on the node longer than the specified deadline' } : {}),
    hostIP: pod.node.ip,
    hostIPs: [{ ip: pod.node.ip }],
    ...(pod.podIP ? { podIP: pod.podIP, podIPs: [{ ip: pod.podIP }] } : {}),
    startTime: rfc3339(pod.startedAt),
    ...(pod.initContainers.length ? { initContainerStatuses: pod.initContainers.map(containerStatus) } : {}),
    containerStatuses: pod.containers.map(containerStatus),
  };
}
