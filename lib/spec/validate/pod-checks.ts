// Strict checks of the pod as a whole: its identity (apiVersion, kind,
// metadata) and the spec fields that are not about one container or volume.
import { get, isObject } from '../json.ts';
import type { Pod } from './locate.ts';
import { dns1123SubdomainErrors } from './names.ts';
import type { Report } from './report.ts';
import {
  checkObjectList, INT32_MAX, integerInRange, isInteger, MAX_ID, optionalBoolean, optionalLabel, optionalObject,
  optionalOneOf, optionalSubdomain, requiredString, requireOneOf, runAsIsValid, seccompProfileIsValid,
} from './rules.ts';

export function apiVersionIsV1({ root }: Pod, r: Report): void {
  requireOneOf(r, 'apiVersion', get(root, 'apiVersion'), ['v1']);
}

export function kindIsPod({ root }: Pod, r: Report): void {
  requireOneOf(r, 'kind', get(root, 'kind'), ['Pod']);
}

export function metadataIsObject({ root, metadata }: Pod, r: Report): void {
  if (!metadata) r.invalid('metadata', get(root, 'metadata'), 'must be an object');
}

export function nameIsDnsSubdomain({ metadata }: Pod, r: Report): void {
  const name = metadata && get(metadata, 'name');
  if (metadata && requiredString(r, 'metadata.name', name)) {
    for (const msg of dns1123SubdomainErrors(name)) r.invalid('metadata.name', name, msg);
  }
}

export function namespaceIsDnsLabel({ metadata }: Pod, r: Report): void {
  if (metadata) optionalLabel(r, 'metadata.namespace', get(metadata, 'namespace'));
}

export function specIsObject({ root }: Pod, r: Report): void {
  const spec = get(root, 'spec');
  if (spec === undefined) r.required('spec');
  else if (!isObject(spec)) r.invalid('spec', spec, 'must be an object');
}

export function containersAreListed({ spec }: Pod, r: Report): void {
  if (!spec) return;
  const containers = get(spec, 'containers');
  if (containers === undefined || (Array.isArray(containers) && containers.length === 0)) {
    return r.required('spec.containers');
  }
  checkObjectList(r, 'spec.containers', containers);
}

export function initContainersAreListed({ spec }: Pod, r: Report): void {
  if (spec) checkObjectList(r, 'spec.initContainers', get(spec, 'initContainers'));
}

export function restartPolicyIsKnown({ spec }: Pod, r: Report): void {
  if (spec) optionalOneOf(r, 'spec.restartPolicy', get(spec, 'restartPolicy'), ['Always', 'OnFailure', 'Never']);
}

export function hostnameIsDnsLabel({ spec }: Pod, r: Report): void {
  if (spec) optionalLabel(r, 'spec.hostname', get(spec, 'hostname'));
}

export function namespaceFlagsAreBooleans({ spec }: Pod, r: Report): void {
  if (!spec) return;
  for (const key of ['shareProcessNamespace', 'hostNetwork', 'hostIPC', 'hostPID']) {
    optionalBoolean(r, `spec.${key}`, get(spec, key));
  }
}

// Kubernetes reports this on spec.securityContext.shareProcessNamespace, where
// its internal type keeps the field; a v1 manifest has it at spec.shareProcessNamespace.
export function sharedPidIsNotHostPid({ spec }: Pod, r: Report): void {
  if (spec && get(spec, 'shareProcessNamespace') === true && get(spec, 'hostPID') === true) {
    r.invalid('spec.shareProcessNamespace', true, 'ShareProcessNamespace and HostPID cannot both be enabled');
  }
}

export function gracePeriodIsNonNegative({ spec }: Pod, r: Report): void {
  const field = 'spec.terminationGracePeriodSeconds';
  const grace = spec && get(spec, 'terminationGracePeriodSeconds');
  if (grace === undefined || !isInteger(r, field, grace)) return;
  if (grace < 0) r.invalid(field, grace, 'must be greater than or equal to 0');
  // Beyond this a number has lost digits on the way in (99999999999999999999 reads as 1e20).
  else if (grace > Number.MAX_SAFE_INTEGER) r.invalid(field, grace, `must be less than or equal to ${Number.MAX_SAFE_INTEGER}`);
}

export function activeDeadlineIsInRange({ spec }: Pod, r: Report): void {
  const deadline = spec && get(spec, 'activeDeadlineSeconds');
  if (deadline !== undefined) integerInRange(r, 'spec.activeDeadlineSeconds', deadline, 1, INT32_MAX);
}

export function podSecurityContextIsValid({ spec }: Pod, r: Report): void {
  const field = 'spec.securityContext';
  const context = spec && optionalObject(r, field, get(spec, 'securityContext'));
  if (!context) return;
  runAsIsValid(r, field, context);
  seccompProfileIsValid(r, field, context);
  const groups = get(context, 'supplementalGroups');
  if (groups === undefined) return;
  if (!Array.isArray(groups)) return r.invalid(`${field}.supplementalGroups`, groups, 'must be an array');
  groups.forEach((gid: unknown, i) => integerInRange(r, `${field}.supplementalGroups[${i}]`, gid, 0, MAX_ID));
}

export function serviceAccountNameIsDnsSubdomain({ spec }: Pod, r: Report): void {
  if (spec) optionalSubdomain(r, 'spec.serviceAccountName', get(spec, 'serviceAccountName'));
}

// minipod runs the pod on this host whatever node it names (see the soft
// check), but the name must still be one a node can have.
export function nodeNameIsDnsSubdomain({ spec }: Pod, r: Report): void {
  if (spec) optionalSubdomain(r, 'spec.nodeName', get(spec, 'nodeName'));
}
