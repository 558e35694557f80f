// The cgroup values a kubelet computes from a pod's resources, with its
// arithmetic: kubernetes pkg/kubelet/cm/helpers_linux.go (MilliCPUToQuota,
// MilliCPUToShares, ResourceConfigForPod), pkg/kubelet/cm/cgroup_manager_linux.go
// (getCPUWeight) and staging/src/k8s.io/component-helpers/resource/helpers.go
// (PodLimits, PodRequests). bigint stands for Go's int64, without its overflow.
import { parseQuantity } from '../spec/quantity.ts';

/** cpu.cfs_period_us, 100ms: the kubelet's QuotaPeriod. */
export const CPU_PERIOD_US = 100000;
/** The kernel refuses a quota below 1ms (MinQuotaPeriod). */
const MIN_QUOTA_US = 1000n;
/** The kernel's bounds for cpu.shares, MIN_SHARES and MAX_SHARES in kernel/sched/sched.h. */
const MIN_SHARES = 2n;
const MAX_SHARES = 262144n;

/** CFS quota in µs per period for a cpu limit; 0 is no limit. */
export function milliCpuToQuota(milliCpu: bigint, periodUs = CPU_PERIOD_US): bigint {
  if (milliCpu === 0n) return 0n;
  const quota = (milliCpu * BigInt(periodUs)) / 1000n;
  return quota < MIN_QUOTA_US ? MIN_QUOTA_US : quota;
}

/** cpu.shares for a cpu request: 1024 per cpu. */
export function milliCpuToShares(milliCpu: bigint): bigint {
  // 0 would be "unset" to a runtime, which means the kernel's default of 1024: 2 is what no request deserves.
  if (milliCpu === 0n) return MIN_SHARES;
  const shares = (milliCpu * 1024n) / 1000n;
  return shares < MIN_SHARES ? MIN_SHARES : shares > MAX_SHARES ? MAX_SHARES : shares;
}

/**
 * cgroup v2 cpu.weight for cpu.shares in [2, 262144], mapped linearly onto
 * [1, 10000] as the kubelet's getCPUWeight does for pod cgroups, and runc
 * (ConvertCPUSharesToCgroupV2Value) and crun did for containers until 2025.
 * Their newer releases map 1024 to 100 instead of 39 (kubernetes#131216);
 * the kubelet's pod cgroups, which minipod's are, kept this one.
 */
export function sharesToWeight(shares: bigint): bigint {
  if (shares >= MAX_SHARES) return 10000n;
  return 1n + ((shares - MIN_SHARES) * 9999n) / (MAX_SHARES - MIN_SHARES);
}

export interface ContainerResources {
  memoryLimit: bigint | null;
  cpuLimitMilli: bigint | null;
  cpuRequestMilli: bigint | null;
}

/**
 * Go's int64 maximum ("8Ei" is capped to it), beyond any machine. A quantity
 * past it is clamped to it, before value() would build a number as big as
 * 1e2000000000 says.
 */
const HUGE = parseQuantity('8Ei');

/**
 * From a container's `resources` (values are Kubernetes quantities: strings or
 * numbers): memory in bytes, cpu in millicores. A limit of 0 is no limit, as
 * the kubelet passes it on and runtimes read it. A cpu limit without a
 * request makes the request equal to the limit (Kubernetes API defaulting).
 */
export function containerResources(
  resources: { limits?: Record<string, string | number>; requests?: Record<string, string | number> } | undefined,
): ContainerResources {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  return {
    memoryLimit: nonZero(amount(limits.memory, 'bytes')),
    cpuLimitMilli: nonZero(amount(limits.cpu, 'milli')),
    cpuRequestMilli: amount(requests.cpu ?? limits.cpu, 'milli'),
  };
}

function amount(value: string | number | undefined, unit: 'bytes' | 'milli'): bigint | null {
  if (value === undefined) return null;
  const parsed = parseQuantity(value);
  const q = parsed.cmp(HUGE) > 0 ? HUGE : parsed;
  return unit === 'bytes' ? q.value() : q.milliValue();
}

const nonZero = (n: bigint | null): bigint | null => (n === 0n ? null : n);

/**
 * The pod cgroup's limits as the kubelet computes them (ResourceConfigForPod):
 * each is the pod's total by PodLimits, set only when every container the
 * kubelet looks at declares that limit; the cpu request, whose shares the pod
 * gets, is the total by PodRequests. Pod-level `spec.resources` and overhead,
 * which the kubelet would add, do not exist in minipod. `init` is in the
 * order of spec.initContainers.
 */
export function podResources(
  apps: ContainerResources[],
  init: { sidecar: boolean; resources: ContainerResources }[],
): ContainerResources {
  const aggregated = (get: (r: ContainerResources) => bigint | null) =>
    aggregate(apps.map(get), init.map(({ sidecar, resources }) => ({ sidecar, value: get(resources) })));
  const limit = (get: (r: ContainerResources) => bigint | null): bigint | null => {
    const { total, seen } = aggregated(get);
    // cpuLimitsDeclared and memoryLimitsDeclared: a zero limit declares none.
    return seen.every((value) => value !== null && value !== 0n) ? total : null;
  };
  return {
    memoryLimit: limit((r) => r.memoryLimit),
    cpuLimitMilli: limit((r) => r.cpuLimitMilli),
    cpuRequestMilli: aggregated((r) => r.cpuRequestMilli).total,
  };
}

/**
 * aggregateContainerResourcesByFn: the app containers and the sidecars run
 * together, while each regular init container runs beside only the sidecars
 * started before it; the pod needs the larger. `seen` is what the kubelet's
 * ContainerFn sees: each app container's own value, and for each init
 * container the sum of it and the sidecars it runs beside, so a regular init
 * container without a limit leaves the pod unlimited, unless a sidecar before
 * it has one.
 */
function aggregate(
  apps: (bigint | null)[],
  init: { sidecar: boolean; value: bigint | null }[],
): { total: bigint | null; seen: (bigint | null)[] } {
  let running = apps.reduce(add, null);
  let sidecars: bigint | null = null;
  let initPeak: bigint | null = null;
  const seen = [...apps];
  for (const { sidecar, value } of init) {
    let use: bigint | null;
    if (sidecar) {
      running = add(running, value);
      use = sidecars = add(sidecars, value);
    } else {
      use = add(value, sidecars);
    }
    seen.push(use);
    initPeak = max(initPeak, use);
  }
  return { total: max(running, initPeak), seen };
}

// null is a resource no container names, as a key missing from Go's ResourceList.
function add(a: bigint | null, b: bigint | null): bigint | null {
  return a === null ? b : b === null ? a : a + b;
}

function max(a: bigint | null, b: bigint | null): bigint | null {
  return a === null ? b : b === null || a >= b ? a : b;
}
