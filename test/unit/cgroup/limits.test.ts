import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type ContainerResources,
  containerResources,
  milliCpuToQuota,
  milliCpuToShares,
  podResources,
  sharesToWeight,
} from '../../../lib/cgroup/limits.ts';

const Mi = 1024n ** 2n;

test('milliCpuToQuota: milli × period / 1000, at least 1ms, 0 for no limit', () => {
  const cases: [bigint, bigint][] = [
    [250n, 25000n],
    [1000n, 100000n],
    [1500n, 150000n],
    [1n, 1000n],
    [9n, 1000n],
    [10n, 1000n],
    [11n, 1100n],
    [0n, 0n],
  ];
  for (const [milli, quota] of cases) assert.is(milliCpuToQuota(milli), quota, `${milli}m`);
  // A period of 50ms halves the quota, the minimum stays.
  assert.is(milliCpuToQuota(250n, 50000), 12500n);
  assert.is(milliCpuToQuota(1n, 50000), 1000n);
});

test('milliCpuToShares: 1024 per cpu, within [2, 262144]', () => {
  const cases: [bigint, bigint][] = [
    [250n, 256n],
    [1n, 2n],
    [0n, 2n],
    [1000n, 1024n],
    [100n, 102n],
    [256000n, 262144n],
    [300000n, 262144n],
  ];
  for (const [milli, shares] of cases) assert.is(milliCpuToShares(milli), shares, `${milli}m`);
});

test('sharesToWeight: 1 + ((shares - 2) × 9999) / 262142', () => {
  const cases: [bigint, bigint][] = [
    [2n, 1n],
    [28n, 1n], // 26 × 9999 / 262142 = 0.99
    [29n, 2n],
    [256n, 10n], // 1 + 2539746 / 262142 = 1 + 9.69
    [1024n, 39n], // 1 + 10218978 / 262142 = 1 + 38.98
    [262144n, 10000n],
  ];
  for (const [shares, weight] of cases) assert.is(sharesToWeight(shares), weight, `${shares} shares`);
});

test('containerResources: bytes, millicores, a cpu request defaulted to the limit', () => {
  const cases: [Parameters<typeof containerResources>[0], ContainerResources][] = [
    [undefined, { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: null }],
    [{}, { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: null }],
    [{ limits: { memory: '128Mi', cpu: '500m' } }, { memoryLimit: 128n * Mi, cpuLimitMilli: 500n, cpuRequestMilli: 500n }],
    [{ limits: { cpu: '2' }, requests: { cpu: '250m' } }, { memoryLimit: null, cpuLimitMilli: 2000n, cpuRequestMilli: 250n }],
    [{ requests: { cpu: 0.5, memory: '1Gi' } }, { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: 500n }],
    [{ limits: { memory: '100M', cpu: 1 } }, { memoryLimit: 100000000n, cpuLimitMilli: 1000n, cpuRequestMilli: 1000n }],
    // Value() and MilliValue() round up, as Go's do.
    [{ limits: { memory: '0.5', cpu: '1u' } }, { memoryLimit: 1n, cpuLimitMilli: 1n, cpuRequestMilli: 1n }],
    // A zero limit is none; the request it defaults is still 0.
    [{ limits: { memory: '0', cpu: '0' } }, { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: 0n }],
    // Past Go's int64, clamped to it rather than built digit by digit.
    [{ limits: { memory: '1e2000000000' } }, { memoryLimit: 2n ** 63n - 1n, cpuLimitMilli: null, cpuRequestMilli: null }],
  ];
  for (const [resources, expected] of cases) {
    assert.equal(containerResources(resources), expected, JSON.stringify(resources));
  }
});

/** A container's resources: memory in Mi, cpu in millicores. */
function r(memoryMi: number | null, cpuLimit: number | null, cpuRequest: number | null = cpuLimit): ContainerResources {
  return {
    memoryLimit: memoryMi === null ? null : BigInt(memoryMi) * Mi,
    cpuLimitMilli: cpuLimit === null ? null : BigInt(cpuLimit),
    cpuRequestMilli: cpuRequest === null ? null : BigInt(cpuRequest),
  };
}
const init = (resources: ContainerResources) => ({ sidecar: false, resources });
const sidecar = (resources: ContainerResources) => ({ sidecar: true, resources });

const POD_CASES: [string, ContainerResources[], ReturnType<typeof init>[], ContainerResources][] = [
  ['one container is the pod', [r(128, 500, 250)], [], r(128, 500, 250)],
  ['the app containers add up', [r(128, 500, 250), r(64, 250, 100)], [], r(192, 750, 350)],
  ['one container without a cpu limit leaves the pod without one', [r(128, 500), r(64, null, 100)], [], r(192, null, 600)],
  ['one container without a memory limit leaves the pod without one', [r(128, 500), r(null, 500)], [], r(null, 1000)],
  ['no container requests cpu: no request', [r(128, null, null)], [], r(128, null, null)],
  ['a bigger init container raises the pod to its size', [r(128, 500, 250), r(64, 250, 100)], [init(r(512, 2000, 1000))], r(512, 2000, 1000)],
  ['a smaller one changes nothing', [r(128, 500, 250)], [init(r(64, 100, 100)), init(r(32, 200, 50))], r(128, 500, 250)],
  ['the largest init container counts, not their sum', [r(64, 100)], [init(r(256, 300)), init(r(128, 600))], r(256, 600)],
  // The kubelet sees each init container too: one without a limit unlimits the pod.
  ['an init container without a cpu limit leaves the pod without one', [r(128, 500)], [init(r(64, null, 100))], r(128, null, 500)],
  ['sidecars add to the app containers', [r(128, 500, 250)], [sidecar(r(32, 100, 50))], r(160, 600, 300)],
  ['a sidecar without a memory limit leaves the pod without one', [r(128, 500)], [sidecar(r(null, 100))], r(null, 600)],
  // An init container runs beside the sidecars started before it: 1000 + 200 beats 500 + 200.
  ['an init container after a sidecar needs room for both', [r(128, 500)], [sidecar(r(32, 200)), init(r(256, 1000))], r(288, 1200)],
  ['an init container before a sidecar runs alone', [r(128, 500)], [init(r(256, 1000)), sidecar(r(32, 200))], r(256, 1000)],
  // As in the kubelet: what it checks is the init container's sum with the sidecars before it.
  [
    'an init container without a limit after a sidecar with one keeps the pod limited',
    [r(128, 500)],
    [sidecar(r(32, 200)), init(r(64, null, 700))],
    r(160, 700, 900),
  ],
];

for (const [name, apps, inits, expected] of POD_CASES) {
  test(`podResources: ${name}`, () => assert.equal(podResources(apps, inits), expected));
}

test('podResources: a zero limit declares none', () => {
  const zero = { memoryLimit: 0n, cpuLimitMilli: 0n, cpuRequestMilli: 0n };
  assert.equal(podResources([r(128, 500), zero], []), { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: 500n });
});

test.run();
