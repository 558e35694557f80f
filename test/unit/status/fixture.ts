import type { ContainerStatus, PodResult, Termination } from '../../../lib/supervisor/status.ts';

// 2026-11-25T15:45:41.250Z and offsets from it, in ms.
export const T0 = Date.UTC(2026, 10, 25, 15, 45, 41, 250);

function ended(name: string, exitCode: number, reason: Termination['reason'], ms: number, message: string | null = null): ContainerStatus {
  const last = { exitCode, reason, message, startedAt: T0 + 40, finishedAt: T0 + 40 + ms };
  return { name, kind: 'app', image: 'busybox', imageID: '', restarts: 0, state: 'terminated', startedAt: null, last, previous: null, usage: null };
}

/** A pod of one container exiting 0, one exiting 3 after a restart, one whose command is not there. */
export function mixedPod(): PodResult {
  const fail = ended('fail', 3, 'Error', 12_345);
  fail.restarts = 1;
  fail.previous = { exitCode: 2, reason: 'Error', message: null, startedAt: T0 + 10, finishedAt: T0 + 20 };
  return {
    id: 'abc', name: 'mixed', node: { name: 'vm', ip: '192.0.2.2' }, podIP: '', phase: 'Failed', reason: null, exitCode: 3, startedAt: T0, finishedAt: T0 + 12_500,
    initContainers: [],
    containers: [
      ended('ok', 0, 'Completed', 8),
      fail,
      ended('not-found', 127, 'ContainerCannotRun', 2, 'exec: "no-such-program": executable file not found in $PATH'),
    ],
  };
}
