// Strict checks of every container, init containers included (locate lists
// both). A container's resources have their own module, resources.ts.
import { posix } from 'node:path';
import { capabilityName } from '../../security/capabilities.ts';
import { get, isStringArray } from '../json.ts';
import { objectItems, type Pod } from './locate.ts';
import { envVarNameErrors, qualifiedNameErrors } from './names.ts';
import type { Report } from './report.ts';
import {
  checkObjectList, localDescendingPathErrors, optionalBoolean, optionalObject, optionalOneOf, optionalString,
  requiredString, runAsIsValid, seccompProfileIsValid, uniqueLabels,
} from './rules.ts';

// One namespace for app and init containers: as in Kubernetes, a clash is
// reported on the later one, so on the init container when an app container
// has the name.
export function containerNamesAreUniqueLabels({ containers }: Pod, r: Report): void {
  uniqueLabels(r, containers.map(({ path, container }) => ({ path, name: get(container, 'name') })));
}

export function imagesAreSet({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const image = get(container, 'image');
    if (requiredString(r, `${path}.image`, image) && image !== image.trim()) {
      r.invalid(`${path}.image`, image, 'must not have leading or trailing whitespace');
    }
  }
}

export function imagePullPoliciesAreKnown({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    optionalOneOf(r, `${path}.imagePullPolicy`, get(container, 'imagePullPolicy'), ['Always', 'IfNotPresent', 'Never']);
  }
}

export function commandAndArgsAreStringArrays({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    for (const key of ['command', 'args']) {
      const value = get(container, key);
      if (value !== undefined && !isStringArray(value)) r.invalid(`${path}.${key}`, value, 'must be an array of strings');
    }
  }
}

export function envIsValid({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const env = get(container, 'env');
    checkObjectList(r, `${path}.env`, env);
    for (const { path: at, item: entry } of objectItems(`${path}.env`, env)) {
      const name = get(entry, 'name');
      if (requiredString(r, `${at}.name`, name)) {
        for (const msg of envVarNameErrors(name)) r.invalid(`${at}.name`, name, msg);
      }
      optionalString(r, `${at}.value`, get(entry, 'value'));
    }
  }
}

const VALUE_FROM_SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'];

/** validEnvDownwardAPIFieldPathExpressions, as sets.List prints them. */
const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];

// The other labels ConvertDownwardAPIFieldLabel knows: Kubernetes calls them
// unsupported for an env var rather than unknown. It also reads `spec.host` as
// an old client's spelling of spec.nodeName; minipod does not.
const OTHER_POD_FIELD_PATHS = [
  'metadata.annotations', 'metadata.labels', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase', 'spec.host',
];

// minipod honours fieldRef only; the other sources read objects of a cluster
// (ConfigMaps, Secrets) or the container's resources, which it does not have.
export function envValueFromIsFieldRef({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    for (const { path: at, item: entry } of objectItems(`${path}.env`, get(container, 'env'))) {
      const field = `${at}.valueFrom`;
      const valueFrom = optionalObject(r, field, get(entry, 'valueFrom'));
      if (!valueFrom) continue;
      const sources = VALUE_FROM_SOURCES.filter((key) => get(valueFrom, key) !== undefined);
      for (const source of sources) {
        if (source === 'fieldRef') fieldRefIsValid(r, `${field}.fieldRef`, get(valueFrom, source));
        else r.unsupported(`${field}.${source}`, source, ['fieldRef']);
      }
      const value = get(entry, 'value');
      if (sources.length === 0) {
        r.invalid(field, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
      } else if (value !== undefined && value !== '') {
        r.invalid(field, '', 'may not be specified when `value` is not empty');
      } else if (sources.length > 1) {
        r.invalid(field, '', 'may not have more than one field specified at a time');
      }
    }
  }
}

// validateObjectFieldSelector with Kubernetes' defaulting of apiVersion to v1.
function fieldRefIsValid(r: Report, field: string, value: unknown): void {
  const fieldRef = optionalObject(r, field, value);
  if (!fieldRef) return;
  const apiVersion = get(fieldRef, 'apiVersion');
  optionalString(r, `${field}.apiVersion`, apiVersion);
  const at = `${field}.fieldPath`;
  const fieldPath = get(fieldRef, 'fieldPath');
  if (!requiredString(r, at, fieldPath)) return;
  const unconvertible = (why: string): void => r.invalid(at, fieldPath, `error converting fieldPath: ${why}`);
  if (typeof apiVersion === 'string' && apiVersion !== '' && apiVersion !== 'v1') {
    return unconvertible(`unsupported pod version: ${apiVersion}`);
  }
  const subscripted = splitSubscript(fieldPath);
  if (subscripted) {
    // The key must be one a label or an annotation can have; Kubernetes
    // reports it on the fieldRef, and an annotation's key in lower case.
    const [base, key] = subscripted;
    const checked = base === 'metadata.annotations' ? key.toLowerCase() : key;
    if (base === 'metadata.labels' || base === 'metadata.annotations') {
      for (const msg of qualifiedNameErrors(checked)) r.invalid(field, checked, msg);
    } else {
      unconvertible(`field label does not support subscript: ${fieldPath}`);
    }
  } else if (OTHER_POD_FIELD_PATHS.includes(fieldPath)) {
    r.unsupported(at, fieldPath, ENV_FIELD_PATHS);
  } else if (!ENV_FIELD_PATHS.includes(fieldPath)) {
    unconvertible(`field label not supported: ${fieldPath}`);
  }
}

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']` -> [`metadata.labels`, `app`]. */
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const inner = fieldPath.slice(0, -2);
  const open = inner.indexOf("['");
  return open > 0 ? [inner.slice(0, open), inner.slice(open + 2)] : undefined;
}

/**
 * A directory reached through a process's open descriptors (/proc/self/fd/7,
 * /proc/1/fd/3) would start the app in whatever the runtime had open there:
 * runc's CVE-2024-21626. minipod closes its descriptors before exec, and
 * refuses such a path as well.
 */
const THROUGH_FDS = /^\/proc\/(self|thread-self|\d+)(\/task\/\d+)?\/fd(\/|$)/;

/** Whether an absolute working directory is reached through a process's descriptors (see THROUGH_FDS). */
export const throughDescriptors = (dir: string) => THROUGH_FDS.test(posix.normalize(dir));

export function workingDirIsAbsolute({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const dir = get(container, 'workingDir');
    if (!optionalString(r, `${path}.workingDir`, dir) || dir === '') continue;
    if (!dir.startsWith('/')) r.invalid(`${path}.workingDir`, dir, 'must be an absolute path');
    else if (throughDescriptors(dir)) r.invalid(`${path}.workingDir`, dir, 'must not be under a /proc/PID/fd directory');
  }
}

export function volumeMountsAreValid({ containers, volumes }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const field = `${path}.volumeMounts`;
    const mounts = get(container, 'volumeMounts');
    checkObjectList(r, field, mounts);
    const mountPaths = new Set<string>();
    for (const { path: at, item: mount } of objectItems(field, mounts)) {
      // Kubernetes also reports an empty name `Not found: ""`; the Required says it.
      const name = get(mount, 'name');
      if (requiredString(r, `${at}.name`, name) && volumes && !volumes.has(name)) r.notFound(`${at}.name`, name);
      const mountPath = get(mount, 'mountPath');
      if (requiredString(r, `${at}.mountPath`, mountPath)) {
        // minipod's own rule: runc and crun refuse a relative mount destination.
        if (!mountPath.startsWith('/')) r.invalid(`${at}.mountPath`, mountPath, 'must be an absolute path');
        if (mountPaths.has(mountPath)) r.invalid(`${at}.mountPath`, mountPath, 'must be unique');
        mountPaths.add(mountPath);
      }
      optionalBoolean(r, `${at}.readOnly`, get(mount, 'readOnly'));
      // Kubernetes names this volumeMounts.subPath, without the index; the index says which mount.
      const subPath = get(mount, 'subPath');
      if (optionalString(r, `${at}.subPath`, subPath) && subPath !== '') {
        for (const msg of localDescendingPathErrors(subPath)) r.invalid(`${at}.subPath`, subPath, msg);
      }
    }
  }
}

export function containerSecurityContextsAreValid({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const field = `${path}.securityContext`;
    const context = optionalObject(r, field, get(container, 'securityContext'));
    if (!context) continue;
    runAsIsValid(r, field, context);
    seccompProfileIsValid(r, field, context);
    for (const flag of ['readOnlyRootFilesystem', 'privileged', 'allowPrivilegeEscalation']) optionalBoolean(r, `${field}.${flag}`, get(context, flag));
    const capabilities = optionalObject(r, `${field}.capabilities`, get(context, 'capabilities'));
    for (const list of ['add', 'drop']) {
      const at = `${field}.capabilities.${list}`;
      const names = capabilities && get(capabilities, list);
      if (names === undefined) continue;
      if (!isStringArray(names)) {
        r.invalid(at, names, 'must be an array of strings');
        continue;
      }
      // Kubernetes takes any name; minipod can only set the ones the kernel has.
      names.forEach((name, i) => {
        if (name.toUpperCase() !== 'ALL' && !capabilityName(name)) r.invalid(`${at}[${i}]`, name, 'not a Linux capability (see capabilities(7); ALL for all)');
      });
    }
  }
}

// Only init containers may set one, and only Always: that makes a sidecar.
// This is Kubernetes 1.33's answer. From 1.34 the ContainerRestartRules
// feature gate (alpha, beta in 1.35) lets any container set restartPolicy and
// restartPolicyRules; minipod does not implement that, so it keeps refusing
// the field on app containers with 1.33's words.
export function containerRestartPolicyIsSidecar({ containers }: Pod, r: Report): void {
  for (const { path, container, init } of containers) {
    const policy = get(container, 'restartPolicy');
    if (init) optionalOneOf(r, `${path}.restartPolicy`, policy, ['Always']);
    else if (policy !== undefined) r.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers');
  }
}
