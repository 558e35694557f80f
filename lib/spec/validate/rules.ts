// The field rules the checks share: types, ranges, names, quantities and
// paths, each reported with Kubernetes' words.
import { get, isObject, type Obj } from '../json.ts';
import { parseQuantity, type Quantity, QuantityError } from '../quantity.ts';
import { dns1123LabelErrors, dns1123SubdomainErrors } from './names.ts';
import type { Report } from './report.ts';

export const INT32_MAX = 2 ** 31 - 1;

/** IsValidUserID and IsValidGroupID bound IDs as libcontainer does; newer Kubernetes widens them to the uint32 range. */
export const MAX_ID = INT32_MAX;

export function requireOneOf(r: Report, field: string, value: unknown, supported: readonly string[]): void {
  if (value === undefined) r.required(field);
  else optionalOneOf(r, field, value, supported);
}

export function optionalOneOf(r: Report, field: string, value: unknown, supported: readonly string[]): void {
  if (value !== undefined && (typeof value !== 'string' || !supported.includes(value))) r.unsupported(field, value, supported);
}

/** Whether a string is set; a missing or empty one (Go's zero value) is `Required`, another type invalid. */
export function requiredString(r: Report, field: string, value: unknown): value is string {
  if (value === undefined || value === '') r.required(field);
  else if (typeof value !== 'string') r.invalid(field, value, 'must be a string');
  else return true;
  return false;
}

/** Whether a string is set, the empty one included; another type is invalid. */
export function optionalString(r: Report, field: string, value: unknown): value is string {
  if (value === undefined) return false;
  if (typeof value === 'string') return true;
  r.invalid(field, value, 'must be a string');
  return false;
}

export function optionalBoolean(r: Report, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') r.invalid(field, value, 'must be a boolean');
}

/** Go decodes only whole numbers into its integer fields. */
export function isInteger(r: Report, field: string, value: unknown): value is number {
  if (typeof value === 'number' && Number.isInteger(value)) return true;
  r.invalid(field, value, 'must be an integer');
  return false;
}

export function integerInRange(r: Report, field: string, value: unknown, lo: number, hi: number): void {
  if (isInteger(r, field, value) && (value < lo || value > hi)) r.invalid(field, value, inclusiveRangeError(lo, hi));
}

/** validation.InclusiveRangeError. */
const inclusiveRangeError = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

// An empty string is Go's zero value: Kubernetes reads it as "not set".
export function optionalLabel(r: Report, field: string, value: unknown): void {
  if (optionalString(r, field, value) && value !== '') {
    for (const msg of dns1123LabelErrors(value)) r.invalid(field, value, msg);
  }
}

export function optionalSubdomain(r: Report, field: string, value: unknown): void {
  if (optionalString(r, field, value) && value !== '') {
    for (const msg of dns1123SubdomainErrors(value)) r.invalid(field, value, msg);
  }
}

/** Names that must be set, be DNS-1123 labels and differ; a clash is reported on the later name. */
export function uniqueLabels(r: Report, named: readonly { path: string; name: unknown }[]): void {
  const seen = new Set<string>();
  for (const { path, name } of named) {
    if (!requiredString(r, `${path}.name`, name)) continue;
    for (const msg of dns1123LabelErrors(name)) r.invalid(`${path}.name`, name, msg);
    if (seen.has(name)) r.duplicate(`${path}.name`, name);
    seen.add(name);
  }
}

/** The object to check further, if one is set; another type is invalid. */
export function optionalObject(r: Report, field: string, value: unknown): Obj | undefined {
  if (value === undefined) return undefined;
  if (isObject(value)) return value;
  r.invalid(field, value, 'must be an object');
  return undefined;
}

/** A list of objects, if one is set: the list and each item that is not an object are invalid. */
export function checkObjectList(r: Report, field: string, list: unknown): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) return r.invalid(field, list, 'must be an array');
  list.forEach((item: unknown, i) => {
    if (!isObject(item)) r.invalid(`${field}[${i}]`, item, 'must be an object');
  });
}

/** The identity fields pod and container security contexts share. */
export function runAsIsValid(r: Report, field: string, context: Obj): void {
  for (const key of ['runAsUser', 'runAsGroup']) {
    const id = get(context, key);
    if (id !== undefined) integerInRange(r, `${field}.${key}`, id, 0, MAX_ID);
  }
  optionalBoolean(r, `${field}.runAsNonRoot`, get(context, 'runAsNonRoot'));
}

/** seccompProfile.type: minipod has its default filter and none; a Localhost profile file it cannot load. */
export function seccompProfileIsValid(r: Report, field: string, context: Obj): void {
  const profile = optionalObject(r, `${field}.seccompProfile`, get(context, 'seccompProfile'));
  if (profile) requireOneOf(r, `${field}.seccompProfile.type`, get(profile, 'type'), ['RuntimeDefault', 'Unconfined']);
}

/**
 * A quantity (`500m`, `1Gi`, a YAML number), or undefined and an error with
 * Kubernetes' text. Kubernetes fails to decode a manifest with a bad one, and
 * says so without a path; here the field is named.
 */
export function quantity(r: Report, field: string, value: unknown): Quantity | undefined {
  try {
    // Anything but a string or a number fails as Kubernetes' decoder fails it: on its text.
    return parseQuantity(typeof value === 'string' || typeof value === 'number' ? value : JSON.stringify(value));
  } catch (err) {
    if (!(err instanceof QuantityError)) throw err;
    r.invalid(field, value, err.message);
    return undefined;
  }
}

/** validatePathNoBacksteps. */
export function backstepErrors(path: string): string[] {
  return path.split('/').includes('..') ? ["must not contain '..'"] : [];
}

/** validateLocalDescendingPath. */
export function localDescendingPathErrors(path: string): string[] {
  return [...(path.startsWith('/') ? ['must be a relative path'] : []), ...backstepErrors(path)];
}
