// A container's resources (limits and requests), checked as Kubernetes checks
// them, with resource names classified as pkg/apis/core/helper does.
import { get } from '../json.ts';
import { parseQuantity, Quantity, QuantityError } from '../quantity.ts';
import type { Pod } from './locate.ts';
import { qualifiedNameErrors } from './names.ts';
import type { Report } from './report.ts';
import { optionalObject, quantity } from './rules.ts';

/** What minipod's cgroups enforce; other names are checked as Kubernetes does, and named in a warning. */
const ENFORCED = ['cpu', 'memory'];

// Checked as Kubernetes checks them, whether enforced or not: a manifest
// minipod takes is one Kubernetes takes.
export function resourcesAreValid({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const field = `${path}.resources`;
    const resources = optionalObject(r, field, get(container, 'resources'));
    if (!resources) continue;
    const limits = resourceList(r, `${field}.limits`, get(resources, 'limits'));
    const requests = resourceList(r, `${field}.requests`, get(resources, 'requests'));
    for (const [name, request] of requests) {
      if (!limits.has(name)) {
        if (!overcommitAllowed(name)) r.required(`${field}.limits`, 'Limit must be set for non overcommitable resources');
        continue;
      }
      const limit = limits.get(name);
      if (!request || !limit) continue;
      const order = request.cmp(limit);
      // As Kubernetes does, the error is on requests as a whole, with the request's canonical form.
      if (order !== 0 && !overcommitAllowed(name)) {
        r.invalid(`${field}.requests`, request.toString(), `must be equal to ${name} limit of ${limit.toString()}`);
      } else if (order > 0) {
        r.invalid(`${field}.requests`, request.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`);
      }
    }
    const names = [...limits.keys(), ...requests.keys()];
    const unenforced = [...new Set(names)].filter((name) => !ENFORCED.includes(name));
    if (unenforced.length) {
      r.warn(`${field}: ${unenforced.join(', ')} ${unenforced.length > 1 ? 'are' : 'is'} not enforced by minipod (only cpu and memory are)`);
    }
    if (names.some(isHugePages) && !names.some((name) => name === 'cpu' || name === 'memory')) {
      r.forbidden(field, 'HugePages require cpu or memory');
    }
  }
}

/** A limits or requests map, each name and quantity checked: the quantities by name, undefined where a value is not one. */
function resourceList(r: Report, field: string, list: unknown): Map<string, Quantity | undefined> {
  const parsed = new Map<string, Quantity | undefined>();
  for (const [name, value] of Object.entries(optionalObject(r, field, list) ?? {})) {
    if (value === null) continue;
    // Kubernetes' path names a map key in brackets: resources.limits[memory].
    const at = `${field}[${name}]`;
    for (const msg of containerResourceNameErrors(name)) r.invalid(at, name, msg);
    const amount = quantity(r, at, value);
    parsed.set(name, amount);
    if (!amount) continue;
    if (amount.sign() === -1) r.invalid(at, amount.toString(), 'must be greater than or equal to 0');
    if ((INTEGER_RESOURCES.includes(name) || isExtendedResource(name)) && !isWhole(amount)) {
      r.invalid(at, amount, 'must be an integer');
    }
    if (isHugePages(name) && !hugePagesDivisible(name, amount)) {
      r.invalid(at, amount.toString(), `${amount.toString()} is not positive integer multiple of ${name}`);
    }
  }
  return parsed;
}

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

/** standardResources: the unprefixed names Kubernetes knows anywhere (quotas included). */
const STANDARD_RESOURCES = [
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'resourcequotas', 'services',
  'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage',
  'services.nodeports', 'services.loadbalancers',
];

const isHugePages = (name: string): boolean => name.startsWith('hugepages-');

/** IsNativeResource: unprefixed, or in the kubernetes.io/ namespace. */
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');

/** IsOvercommitAllowed: whether a request may be below its limit. */
const overcommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePages(name);

/** IsExtendedResourceName: `example.com/gpu`. */
function isExtendedResource(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith('requests.') && qualifiedNameErrors(`requests.${name}`).length === 0;
}

/** integerResources: counted in whole numbers, as extended resources are. */
const INTEGER_RESOURCES = [
  'pods', 'resourcequotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
];

/** Go's `MilliValue()%1000 == 0`, quirk included: 0.9995 rounds up to 1000m and passes. */
function isWhole(amount: Quantity): boolean {
  return amount.exponent >= 0 || amount.milliValue() % 1000n === 0n;
}

/** Where Go's Value() leaves int64. Past it, Go's arithmetic wraps, and minipod does not build the huge number. */
const INT64_BOUNDS = [new Quantity(-(2n ** 63n), 0, 'DecimalSI'), new Quantity(2n ** 63n - 1n, 0, 'DecimalSI')] as const;
const fitsInt64 = (amount: Quantity): boolean => amount.cmp(INT64_BOUNDS[0]) >= 0 && amount.cmp(INT64_BOUNDS[1]) <= 0;

/** IsHugePageResourceValueDivisible: a whole number of pages of the size the name gives. */
function hugePagesDivisible(name: string, amount: Quantity): boolean {
  let pageSize: Quantity;
  try {
    pageSize = parseQuantity(name.slice('hugepages-'.length));
  } catch (err) {
    if (err instanceof QuantityError) return false;
    throw err;
  }
  if (pageSize.sign() <= 0 || !isWhole(pageSize)) return false;
  if (!fitsInt64(pageSize) || !fitsInt64(amount)) return true;
  return amount.value() % pageSize.value() === 0n;
}

/** validateContainerResourceName (and validateResourceName, which it starts with). */
function containerResourceNameErrors(name: string): string[] {
  const errors = qualifiedNameErrors(name);
  const bare = !name.includes('/');
  const standard = STANDARD_RESOURCES.includes(name) || isHugePages(name) || name.startsWith('requests.hugepages-');
  if (errors.length === 0 && bare && !standard) errors.push('must be a standard resource type or fully qualified');
  if (bare) {
    if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePages(name)) errors.push('must be a standard resource for containers');
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    errors.push("doesn't follow extended resource name standard");
  }
  return errors;
}
