import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podStatus, rfc3339 } from '../../../lib/status/kube.ts';
import { mixedPod, T0 } from './fixture.ts';

test('metav1.Time: RFC 3339, UTC, to the second', () => {
  assert.is(rfc3339(T0), '2026-11-25T15:45:41Z');
});

test('a v1 PodStatus with kubelet field names; unknown fields left out', () => {
  const t = (ms: number) => rfc3339(T0 + ms);
  assert.equal(podStatus(mixedPod()), {
    phase: 'Failed',
    hostIP: '192.0.2.2',
    hostIPs: [{ ip: '192.0.2.2' }],
    startTime: '2026-11-25T15:45:41Z',
    containerStatuses: [
      {
        name: 'ok',
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t(40), finishedAt: t(48) } },
        lastState: {},
        ready: false, restartCount: 0, image: 'busybox', imageID: '', started: false,
      },
      {
        name: 'fail',
        state: { terminated: { exitCode: 3, reason: 'Error', startedAt: t(40), finishedAt: '2026-11-25T15:45:53Z' } },
        lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: t(10), finishedAt: t(20) } },
        ready: false, restartCount: 1, image: 'busybox', imageID: '', started: false,
      },
      {
        name: 'not-found',
        state: {
          terminated: {
            exitCode: 127,
            reason: 'ContainerCannotRun',
            message: 'exec: "no-such-program": executable file not found in $PATH',
            startedAt: t(40),
            finishedAt: t(42),
          },
        },
        lastState: {},
        ready: false, restartCount: 0, image: 'busybox', imageID: '', started: false,
      },
    ],
  });
});

test("an image of the store: imageID as the CRI reports it, repository@manifest digest", () => {
  const pod = mixedPod();
  const id = `127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`;
  pod.containers[0]!.imageID = id;
  assert.is(podStatus(pod).containerStatuses![0]!.imageID, id);
});

test('a container in backoff when the pod stopped: waiting CrashLoopBackOff, its last run in lastState', () => {
  const pod = mixedPod();
  pod.containers = [{ ...pod.containers[1]!, state: 'waiting' }];
  const [c] = podStatus(pod).containerStatuses!;
  assert.equal(c!.state, { waiting: { reason: 'CrashLoopBackOff' } });
  assert.is(c!.lastState!.terminated!.exitCode, 3);
});

test("init containers in initContainerStatuses; a deadline in reason and message, in kubelet's words; a pod IP when there is one", () => {
  const pod = mixedPod();
  pod.reason = 'DeadlineExceeded';
  pod.podIP = '192.0.2.2';
  pod.initContainers = [{ ...pod.containers[0]!, name: 'setup', kind: 'init' }];
  pod.containers = [{ ...pod.containers[1]!, state: 'waiting', last: null, previous: null }];
  const status = podStatus(pod);
  assert.equal([status.reason, status.message], ['DeadlineExceeded', 'Pod was active on the node longer than the specified deadline']);
  assert.equal([status.podIP, status.podIPs], ['192.0.2.2', [{ ip: '192.0.2.2' }]]);
  assert.equal(status.initContainerStatuses!.map((c) => [c.name, c.state?.terminated?.reason]), [['setup', 'Completed']]);
  assert.equal(status.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
});

test.run();
