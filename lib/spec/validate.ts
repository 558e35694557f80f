// Pod manifest validation as a list of small named checks, the way runc's
// libcontainer validator works: strict checks collect Kubernetes-style field
// errors (all of them, so one run shows every problem), the soft check only
// warns. Messages copy Kubernetes' wording (pkg/apis/core/validation of
// Kubernetes 1.33) so what users find when they search an error is the
// Kubernetes documentation for it.
import { MinipodError } from '../errors.ts';
import type { PodManifest } from './manifest.ts';
import { parseQuantity, Quantity, QuantityError } from './quantity.ts';

/** Kubernetes' field.ErrorType texts (k8s.io/apimachinery/pkg/util/validation/field). */
export type FieldErrorType =
  | 'Required value' | 'Invalid value' | 'Unsupported value' | 'Duplicate value' | 'Not found' | 'Forbidden'
  | 'Too long' | 'Too many';

export interface FieldError {
  /** Kubernetes' field path: `spec.containers[1].name`. */
  field: string;
  type: FieldErrorType;
  /** The offending value; Kubernetes prints none for `Required value`, `Forbidden` and `Too long`. */
  value?: unknown;
  detail?: string;
}

/** Every field error of a manifest, one per line, as `kubectl` prints them. */
export class ValidationError extends MinipodError {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map(formatFieldError).join('\n'));
    this.errors = errors;
  }
}

/** The types field.Error.ErrorBody() prints without the value. */
const VALUELESS: ReadonlySet<FieldErrorType> = new Set<FieldErrorType>(['Required value', 'Forbidden', 'Too long']);

/** `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", ...`, as field.Error.Error() does. */
export function formatFieldError({ field, type, value, detail }: FieldError): string {
  // `Too many` leaves the value out when it has no count to give.
  const bare = VALUELESS.has(type) || (type === 'Too many' && value === undefined);
  let body: string = bare ? type : `${type}: ${formatValue(value)}`;
  if (detail) body += `: ${detail}`;
  return field ? `${field}: ${body}` : body;
}

/** Beyond this many characters a value is cut: the error is one line to read, not a copy of the manifest. */
const MAX_VALUE_CHARS = 300;

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  // Go prints a fmt.Stringer with String(), unquoted.
  if (value instanceof Quantity) return value.toString();
  const text = JSON.stringify(value);
  if (text.length <= MAX_VALUE_CHARS) return text;
  const length = typeof value === 'string' ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, 64)}... (${length})`;
}

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Kubernetes decodes `null` as "not set", so every lookup does too. */
function get(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? (o[key] ?? undefined) : undefined;
}

/** Validate without throwing: every error, every warning. */
export function validatePod(manifest: unknown): { errors: FieldError[]; warnings: string[] } {
  const report = new Report();
  if (!isObject(manifest)) {
    report.invalid('', manifest, 'must be a Pod object');
  } else {
    const pod = locate(manifest);
    for (const check of [...STRICT_CHECKS, ...SOFT_CHECKS]) check(pod, report);
  }
  return { errors: report.errors, warnings: report.warnings };
}

/** The typed manifest, or a ValidationError listing every problem. Warnings are the caller's to print. */
export function parsePod(manifest: unknown): { pod: PodManifest; warnings: string[] } {
  const { errors, warnings } = validatePod(manifest);
  if (errors.length > 0) throw new ValidationError(errors);
  return { pod: withoutNulls(manifest) as PodManifest, warnings };
}

// The typed manifest must not hold nulls its type does not admit; they meant
// "not set" (see get), so they go.
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]),
  );
}

class Report {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];
  required(field: string, detail?: string): void {
    this.errors.push({ field, type: 'Required value', detail });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.errors.push({ field, type: 'Invalid value', value, detail });
  }
  duplicate(field: string, value: unknown): void {
    this.errors.push({ field, type: 'Duplicate value', value });
  }
  notFound(field: string, value: unknown): void {
    this.errors.push({ field, type: 'Not found', value });
  }
  forbidden(field: string, detail: string): void {
    this.errors.push({ field, type: 'Forbidden', detail });
  }
  unsupported(field: string, value: unknown, supported: readonly string[]): void {
    const detail = `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`;
    this.errors.push({ field, type: 'Unsupported value', value, detail });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

interface ContainerRef {
  /** `spec.containers[0]` or `spec.initContainers[0]`. */
  path: string;
  container: Obj;
  init: boolean;
}

/** The parts of the manifest the checks look at, found once; a part of the wrong type is left out (its own check reports it). */
interface Pod {
  root: Obj;
  /** {} when absent: the name check then reports what is missing. */
  metadata?: Obj;
  spec?: Obj;
  /** The app containers, then the init containers, in the order Kubernetes validates them: every per-container check walks both. */
  containers: ContainerRef[];
  /** The names spec.volumes declares; undefined when spec.volumes is not a list, so that mounts are not looked up in it. */
  volumes?: ReadonlySet<string>;
}

function locate(root: Obj): Pod {
  const metadata = get(root, 'metadata') ?? {};
  const rawSpec = get(root, 'spec');
  const spec = isObject(rawSpec) ? rawSpec : undefined;
  const listed = (key: string, init: boolean): ContainerRef[] =>
    objectItems(`spec.${key}`, spec && get(spec, key)).map(({ path, item }) => ({ path, container: item, init }));
  return {
    root,
    metadata: isObject(metadata) ? metadata : undefined,
    spec,
    containers: [...listed('containers', false), ...listed('initContainers', true)],
    volumes: declaredVolumes(spec && get(spec, 'volumes')),
  };
}

// Kubernetes knows only the volumes that passed validation, so mounting a
// volume with a bad source also reports the mount `Not found`; here a volume
// is declared once it has a name, and its own errors say what is wrong.
function declaredVolumes(volumes: unknown): ReadonlySet<string> | undefined {
  if (volumes !== undefined && !Array.isArray(volumes)) return undefined;
  const names = objectItems('', volumes).map(({ item }) => get(item, 'name'));
  return new Set(names.filter((name): name is string => typeof name === 'string'));
}

/** The items of a list that are objects, with their paths; the check that owns the list reports the rest (checkObjectList). */
function objectItems(field: string, list: unknown): { path: string; item: Obj }[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, i) => (isObject(item) ? [{ path: `${field}[${i}]`, item }] : []));
}

function checkObjectList(r: Report, field: string, list: unknown): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) return r.invalid(field, list, 'must be an array');
  list.forEach((item: unknown, i) => {
    if (!isObject(item)) r.invalid(`${field}[${i}]`, item, 'must be an object');
  });
}

type Check = (pod: Pod, report: Report) => void;

// ---- strict checks: the pod ----------------------------------------------------

function apiVersionIsV1({ root }: Pod, r: Report): void {
  requireOneOf(r, 'apiVersion', get(root, 'apiVersion'), ['v1']);
}

function kindIsPod({ root }: Pod, r: Report): void {
  requireOneOf(r, 'kind', get(root, 'kind'), ['Pod']);
}

function metadataIsObject({ root, metadata }: Pod, r: Report): void {
  if (!metadata) r.invalid('metadata', get(root, 'metadata'), 'must be an object');
}

function nameIsDnsSubdomain({ metadata }: Pod, r: Report): void {
  const name = metadata && get(metadata, 'name');
  if (metadata && requiredString(r, 'metadata.name', name)) {
    for (const msg of dns1123SubdomainErrors(name)) r.invalid('metadata.name', name, msg);
  }
}

function namespaceIsDnsLabel({ metadata }: Pod, r: Report): void {
  if (metadata) optionalLabel(r, 'metadata.namespace', get(metadata, 'namespace'));
}

function specIsObject({ root }: Pod, r: Report): void {
  const spec = get(root, 'spec');
  if (spec === undefined) r.required('spec');
  else if (!isObject(spec)) r.invalid('spec', spec, 'must be an object');
}

function containersAreListed({ spec }: Pod, r: Report): void {
  if (!spec) return;
  const containers = get(spec, 'containers');
  if (containers === undefined || (Array.isArray(containers) && containers.length === 0)) {
    return r.required('spec.containers');
  }
  checkObjectList(r, 'spec.containers', containers);
}

function initContainersAreListed({ spec }: Pod, r: Report): void {
  if (spec) checkObjectList(r, 'spec.initContainers', get(spec, 'initContainers'));
}

function restartPolicyIsKnown({ spec }: Pod, r: Report): void {
  if (spec) optionalOneOf(r, 'spec.restartPolicy', get(spec, 'restartPolicy'), ['Always', 'OnFailure', 'Never']);
}

function hostnameIsDnsLabel({ spec }: Pod, r: Report): void {
  if (spec) optionalLabel(r, 'spec.hostname', get(spec, 'hostname'));
}

function namespaceFlagsAreBooleans({ spec }: Pod, r: Report): void {
  if (!spec) return;
  for (const key of ['shareProcessNamespace', 'hostNetwork', 'hostIPC', 'hostPID']) {
    optionalBoolean(r, `spec.${key}`, get(spec, key));
  }
}

// Kubernetes reports this on spec.securityContext.shareProcessNamespace, where
// its internal type keeps the field; a v1 manifest has it at spec.shareProcessNamespace.
function sharedPidIsNotHostPid({ spec }: Pod, r: Report): void {
  if (spec && get(spec, 'shareProcessNamespace') === true && get(spec, 'hostPID') === true) {
    r.invalid('spec.shareProcessNamespace', true, 'ShareProcessNamespace and HostPID cannot both be enabled');
  }
}

function gracePeriodIsNonNegative({ spec }: Pod, r: Report): void {
  const field = 'spec.terminationGracePeriodSeconds';
  const grace = spec && get(spec, 'terminationGracePeriodSeconds');
  if (grace === undefined || !isInteger(r, field, grace)) return;
  if (grace < 0) r.invalid(field, grace, 'must be greater than or equal to 0');
  // Beyond this a number has lost digits on the way in (99999999999999999999 reads as 1e20).
  else if (grace > Number.MAX_SAFE_INTEGER) r.invalid(field, grace, `must be less than or equal to ${Number.MAX_SAFE_INTEGER}`);
}

function activeDeadlineIsInRange({ spec }: Pod, r: Report): void {
  const deadline = spec && get(spec, 'activeDeadlineSeconds');
  if (deadline !== undefined) integerInRange(r, 'spec.activeDeadlineSeconds', deadline, 1, INT32_MAX);
}

function podSecurityContextIsValid({ spec }: Pod, r: Report): void {
  const field = 'spec.securityContext';
  const context = spec && optionalObject(r, field, get(spec, 'securityContext'));
  if (!context) return;
  runAsIsValid(r, field, context);
  const groups = get(context, 'supplementalGroups');
  if (groups === undefined) return;
  if (!Array.isArray(groups)) return r.invalid(`${field}.supplementalGroups`, groups, 'must be an array');
  groups.forEach((gid: unknown, i) => integerInRange(r, `${field}.supplementalGroups[${i}]`, gid, 0, MAX_ID));
}

function serviceAccountNameIsDnsSubdomain({ spec }: Pod, r: Report): void {
  if (spec) optionalSubdomain(r, 'spec.serviceAccountName', get(spec, 'serviceAccountName'));
}

// minipod runs the pod on this host whatever node it names (see the soft
// check), but the name must still be one a node can have.
function nodeNameIsDnsSubdomain({ spec }: Pod, r: Report): void {
  if (spec) optionalSubdomain(r, 'spec.nodeName', get(spec, 'nodeName'));
}

// ---- strict checks: volumes ------------------------------------------------------

/** Every source of Kubernetes' VolumeSource, in the order validateVolumeSource looks at them. */
const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc',
  'flexVolume', 'configMap', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
  'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
] as const;

/** The sources minipod provides. Any other is an error, not a warning: the container would miss files it expects. */
const PROVIDED_VOLUME_SOURCES = ['emptyDir', 'hostPath'];

/** Kubernetes' supportedHostPathTypes as sets.List prints them: sorted. */
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function volumesAreListed({ spec }: Pod, r: Report): void {
  if (spec) checkObjectList(r, 'spec.volumes', get(spec, 'volumes'));
}

function volumeSourcesAreProvided({ spec }: Pod, r: Report): void {
  for (const { path, item: volume } of objectItems('spec.volumes', spec && get(spec, 'volumes'))) {
    const [source, ...extra] = VOLUME_SOURCES.filter((key) => get(volume, key) !== undefined);
    if (source === undefined) {
      r.required(path, 'must specify a volume type');
      continue;
    }
    const value = get(volume, source);
    if (source === 'emptyDir') emptyDirIsValid(r, `${path}.emptyDir`, value);
    else if (source === 'hostPath') hostPathIsValid(r, `${path}.hostPath`, value);
    else r.unsupported(`${path}.${source}`, source, PROVIDED_VOLUME_SOURCES);
    for (const key of extra) r.forbidden(`${path}.${key}`, 'may not specify more than 1 volume type');
  }
}

function emptyDirIsValid(r: Report, field: string, value: unknown): void {
  const emptyDir = optionalObject(r, field, value);
  if (!emptyDir) return;
  // Kubernetes also has HugePages media; minipod mounts a tmpfs or nothing.
  optionalOneOf(r, `${field}.medium`, get(emptyDir, 'medium'), ['', 'Memory']);
  const sizeLimit = get(emptyDir, 'sizeLimit');
  if (sizeLimit !== undefined && quantity(r, `${field}.sizeLimit`, sizeLimit)?.sign() === -1) {
    r.forbidden(`${field}.sizeLimit`, 'SizeLimit field must be a valid resource quantity');
  }
}

function hostPathIsValid(r: Report, field: string, value: unknown): void {
  const hostPath = optionalObject(r, field, value);
  if (!hostPath) return;
  const path = get(hostPath, 'path');
  if (requiredString(r, `${field}.path`, path)) {
    // minipod's own rule: a relative path would be relative to wherever minipod happens to run.
    if (!path.startsWith('/')) r.invalid(`${field}.path`, path, 'must be an absolute path');
    for (const msg of backstepErrors(path)) r.invalid(`${field}.path`, path, msg);
  }
  optionalOneOf(r, `${field}.type`, get(hostPath, 'type'), HOST_PATH_TYPES);
}

function volumeNamesAreUniqueLabels({ spec }: Pod, r: Report): void {
  const seen = new Set<string>();
  for (const { path, item: volume } of objectItems('spec.volumes', spec && get(spec, 'volumes'))) {
    const name = get(volume, 'name');
    if (!requiredString(r, `${path}.name`, name)) continue;
    for (const msg of dns1123LabelErrors(name)) r.invalid(`${path}.name`, name, msg);
    if (seen.has(name)) r.duplicate(`${path}.name`, name);
    seen.add(name);
  }
}

// ---- strict checks: every container, init containers included ---------------------

// One namespace for app and init containers: as in Kubernetes, a clash is
// reported on the later one, so on the init container when an app container
// has the name.
function containerNamesAreUniqueLabels({ containers }: Pod, r: Report): void {
  const seen = new Set<string>();
  for (const { path, container } of containers) {
    const name = get(container, 'name');
    if (!requiredString(r, `${path}.name`, name)) continue;
    for (const msg of dns1123LabelErrors(name)) r.invalid(`${path}.name`, name, msg);
    if (seen.has(name)) r.duplicate(`${path}.name`, name);
    seen.add(name);
  }
}

function imagesAreSet({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const image = get(container, 'image');
    if (requiredString(r, `${path}.image`, image) && image !== image.trim()) {
      r.invalid(`${path}.image`, image, 'must not have leading or trailing whitespace');
    }
  }
}

function commandAndArgsAreStringArrays({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    for (const key of ['command', 'args']) {
      const value = get(container, key);
      if (value !== undefined && !isStringArray(value)) r.invalid(`${path}.${key}`, value, 'must be an array of strings');
    }
  }
}

function envIsValid({ containers }: Pod, r: Report): void {
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
function envValueFromIsFieldRef({ containers }: Pod, r: Report): void {
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

function workingDirIsAbsolute({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const dir = get(container, 'workingDir');
    if (optionalString(r, `${path}.workingDir`, dir) && dir !== '' && !dir.startsWith('/')) {
      r.invalid(`${path}.workingDir`, dir, 'must be an absolute path');
    }
  }
}

function volumeMountsAreValid({ containers, volumes }: Pod, r: Report): void {
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

function containerSecurityContextsAreValid({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const field = `${path}.securityContext`;
    const context = optionalObject(r, field, get(container, 'securityContext'));
    if (!context) continue;
    runAsIsValid(r, field, context);
    optionalBoolean(r, `${field}.readOnlyRootFilesystem`, get(context, 'readOnlyRootFilesystem'));
  }
}

// minipod does not enforce resources until it sets up cgroups (the soft
// check warns so), but it checks them as Kubernetes does: a manifest it takes
// is one Kubernetes takes.
function resourcesAreValid({ containers }: Pod, r: Report): void {
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

// Only init containers may set one, and only Always: that makes a sidecar.
// This is Kubernetes 1.33's answer. From 1.34 the ContainerRestartRules
// feature gate (alpha, beta in 1.35) lets any container set restartPolicy and
// restartPolicyRules; minipod does not implement that, so it keeps refusing
// the field on app containers with 1.33's words.
function containerRestartPolicyIsSidecar({ containers }: Pod, r: Report): void {
  for (const { path, container, init } of containers) {
    const policy = get(container, 'restartPolicy');
    if (init) optionalOneOf(r, `${path}.restartPolicy`, policy, ['Always']);
    else if (policy !== undefined) r.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers');
  }
}

const STRICT_CHECKS: readonly Check[] = [
  apiVersionIsV1,
  kindIsPod,
  metadataIsObject,
  nameIsDnsSubdomain,
  namespaceIsDnsLabel,
  specIsObject,
  containersAreListed,
  initContainersAreListed,
  volumesAreListed,
  volumeSourcesAreProvided,
  volumeNamesAreUniqueLabels,
  containerNamesAreUniqueLabels,
  imagesAreSet,
  commandAndArgsAreStringArrays,
  envIsValid,
  envValueFromIsFieldRef,
  workingDirIsAbsolute,
  volumeMountsAreValid,
  resourcesAreValid,
  containerSecurityContextsAreValid,
  containerRestartPolicyIsSidecar,
  restartPolicyIsKnown,
  hostnameIsDnsLabel,
  namespaceFlagsAreBooleans,
  sharedPidIsNotHostPid,
  gracePeriodIsNonNegative,
  activeDeadlineIsInRange,
  podSecurityContextIsValid,
  serviceAccountNameIsDnsSubdomain,
  nodeNameIsDnsSubdomain,
];

// ---- shared field rules -------------------------------------------------------------

const INT32_MAX = 2 ** 31 - 1;

/** IsValidUserID and IsValidGroupID bound IDs as libcontainer does; newer Kubernetes widens them to the uint32 range. */
const MAX_ID = INT32_MAX;

function requireOneOf(r: Report, field: string, value: unknown, supported: readonly string[]): void {
  if (value === undefined) r.required(field);
  else optionalOneOf(r, field, value, supported);
}

function optionalOneOf(r: Report, field: string, value: unknown, supported: readonly string[]): void {
  if (value !== undefined && (typeof value !== 'string' || !supported.includes(value))) r.unsupported(field, value, supported);
}

/** Whether a string is set; a missing or empty one (Go's zero value) is `Required`, another type invalid. */
function requiredString(r: Report, field: string, value: unknown): value is string {
  if (value === undefined || value === '') r.required(field);
  else if (typeof value !== 'string') r.invalid(field, value, 'must be a string');
  else return true;
  return false;
}

/** Whether a string is set, the empty one included; another type is invalid. */
function optionalString(r: Report, field: string, value: unknown): value is string {
  if (value === undefined) return false;
  if (typeof value === 'string') return true;
  r.invalid(field, value, 'must be a string');
  return false;
}

function optionalBoolean(r: Report, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') r.invalid(field, value, 'must be a boolean');
}

/** Go decodes only whole numbers into its integer fields. */
function isInteger(r: Report, field: string, value: unknown): value is number {
  if (typeof value === 'number' && Number.isInteger(value)) return true;
  r.invalid(field, value, 'must be an integer');
  return false;
}

function integerInRange(r: Report, field: string, value: unknown, lo: number, hi: number): void {
  if (isInteger(r, field, value) && (value < lo || value > hi)) r.invalid(field, value, inclusiveRangeError(lo, hi));
}

/** validation.InclusiveRangeError. */
const inclusiveRangeError = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

// An empty string is Go's zero value: Kubernetes reads it as "not set".
function optionalLabel(r: Report, field: string, value: unknown): void {
  if (optionalString(r, field, value) && value !== '') {
    for (const msg of dns1123LabelErrors(value)) r.invalid(field, value, msg);
  }
}

function optionalSubdomain(r: Report, field: string, value: unknown): void {
  if (optionalString(r, field, value) && value !== '') {
    for (const msg of dns1123SubdomainErrors(value)) r.invalid(field, value, msg);
  }
}

/** The object to check further, if one is set; another type is invalid. */
function optionalObject(r: Report, field: string, value: unknown): Obj | undefined {
  if (value === undefined) return undefined;
  if (isObject(value)) return value;
  r.invalid(field, value, 'must be an object');
  return undefined;
}

/** The identity fields pod and container security contexts share. */
function runAsIsValid(r: Report, field: string, context: Obj): void {
  for (const key of ['runAsUser', 'runAsGroup']) {
    const id = get(context, key);
    if (id !== undefined) integerInRange(r, `${field}.${key}`, id, 0, MAX_ID);
  }
  optionalBoolean(r, `${field}.runAsNonRoot`, get(context, 'runAsNonRoot'));
}

/**
 * A quantity (`500m`, `1Gi`, a YAML number), or undefined and an error with
 * Kubernetes' text. Kubernetes fails to decode a manifest with a bad one, and
 * says so without a path; here the field is named.
 */
function quantity(r: Report, field: string, value: unknown): Quantity | undefined {
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
function backstepErrors(path: string): string[] {
  return path.split('/').includes('..') ? ["must not contain '..'"] : [];
}

/** validateLocalDescendingPath. */
function localDescendingPathErrors(path: string): string[] {
  return [...(path.startsWith('/') ? ['must be a relative path'] : []), ...backstepErrors(path)];
}

// ---- soft check: fields minipod does not know or does not honour --------------

/**
 * What minipod does with each field Kubernetes defines for a Pod. 'honoured'
 * fields are checked above and acted on; 'ignored' ones are accepted silently
 * because ignoring them is what Kubernetes amounts to here (informational
 * fields, server-set metadata, image pulling: images are local); 'unsupported'
 * ones change behaviour in Kubernetes and minipod warns that it drops them;
 * 'refused' ones are errors of a strict check (the containers would miss what
 * they provide), so there is nothing to warn about. A nested table is walked;
 * `[table]` is a list of such objects. When a feature lands, move its field
 * to 'honoured' (and add its checks).
 */
type Disposition = 'honoured' | 'ignored' | 'unsupported' | 'refused';
interface FieldTable {
  readonly [field: string]: Disposition | FieldTable | readonly [FieldTable];
}

const ENV_VAR_FIELDS: FieldTable = {
  name: 'honoured', value: 'honoured',
  valueFrom: {
    fieldRef: { fieldPath: 'honoured', apiVersion: 'honoured' },
    resourceFieldRef: 'refused', configMapKeyRef: 'refused', secretKeyRef: 'refused',
  },
};

const VOLUME_MOUNT_FIELDS: FieldTable = {
  name: 'honoured', mountPath: 'honoured', readOnly: 'honoured', subPath: 'honoured',
  subPathExpr: 'unsupported', mountPropagation: 'unsupported', recursiveReadOnly: 'unsupported',
};

const CONTAINER_SECURITY_CONTEXT_FIELDS: FieldTable = {
  runAsUser: 'honoured', runAsGroup: 'honoured', runAsNonRoot: 'honoured', readOnlyRootFilesystem: 'honoured',
  privileged: 'unsupported', capabilities: 'unsupported', allowPrivilegeEscalation: 'unsupported',
  seccompProfile: 'unsupported', appArmorProfile: 'unsupported', seLinuxOptions: 'unsupported',
  procMount: 'unsupported', windowsOptions: 'unsupported',
};

// Init containers walk this table too.
const CONTAINER_FIELDS: FieldTable = {
  name: 'honoured', image: 'honoured', command: 'honoured', args: 'honoured', env: [ENV_VAR_FIELDS], workingDir: 'honoured',
  volumeMounts: [VOLUME_MOUNT_FIELDS], securityContext: CONTAINER_SECURITY_CONTEXT_FIELDS, restartPolicy: 'honoured',
  ports: 'ignored', imagePullPolicy: 'ignored',
  // Checked strictly, but not enforced until minipod sets up cgroups: a warning says so.
  resources: 'unsupported',
  envFrom: 'unsupported', resizePolicy: 'unsupported', volumeDevices: 'unsupported', livenessProbe: 'unsupported',
  readinessProbe: 'unsupported', startupProbe: 'unsupported', lifecycle: 'unsupported',
  terminationMessagePath: 'unsupported', terminationMessagePolicy: 'unsupported',
  stdin: 'unsupported', stdinOnce: 'unsupported', tty: 'unsupported',
};

const POD_SECURITY_CONTEXT_FIELDS: FieldTable = {
  runAsUser: 'honoured', runAsGroup: 'honoured', runAsNonRoot: 'honoured', supplementalGroups: 'honoured',
  fsGroup: 'unsupported', fsGroupChangePolicy: 'unsupported', sysctls: 'unsupported', seccompProfile: 'unsupported',
  appArmorProfile: 'unsupported', seLinuxOptions: 'unsupported', windowsOptions: 'unsupported',
  supplementalGroupsPolicy: 'unsupported', seLinuxChangePolicy: 'unsupported',
};

const VOLUME_FIELDS: FieldTable = {
  name: 'honoured',
  emptyDir: { medium: 'honoured', sizeLimit: 'honoured' },
  hostPath: { path: 'honoured', type: 'honoured' },
  ...Object.fromEntries(
    VOLUME_SOURCES.filter((s) => !PROVIDED_VOLUME_SOURCES.includes(s)).map((s) => [s, 'refused' as const]),
  ),
};

const POD_SPEC_FIELDS: FieldTable = {
  containers: [CONTAINER_FIELDS], initContainers: [CONTAINER_FIELDS], volumes: [VOLUME_FIELDS],
  restartPolicy: 'honoured', terminationGracePeriodSeconds: 'honoured', activeDeadlineSeconds: 'honoured',
  hostname: 'honoured', shareProcessNamespace: 'honoured', hostNetwork: 'honoured', hostIPC: 'honoured', hostPID: 'honoured',
  securityContext: POD_SECURITY_CONTEXT_FIELDS,
  // valueFrom.fieldRef reads it.
  serviceAccountName: 'honoured',
  imagePullSecrets: 'ignored',
  // No Services exist, so there are no service links to add either way.
  enableServiceLinks: 'ignored',
  // It binds the pod to a node; minipod runs it on this host, whichever node it names.
  nodeName: 'unsupported',
  ephemeralContainers: 'unsupported',
  nodeSelector: 'unsupported', affinity: 'unsupported', tolerations: 'unsupported',
  topologySpreadConstraints: 'unsupported', schedulerName: 'unsupported', schedulingGates: 'unsupported',
  priority: 'unsupported', priorityClassName: 'unsupported', preemptionPolicy: 'unsupported',
  runtimeClassName: 'unsupported', overhead: 'unsupported', readinessGates: 'unsupported',
  serviceAccount: 'unsupported', automountServiceAccountToken: 'unsupported', dnsPolicy: 'unsupported',
  dnsConfig: 'unsupported', hostAliases: 'unsupported',
  hostUsers: 'unsupported', subdomain: 'unsupported', setHostnameAsFQDN: 'unsupported',
  os: 'unsupported', resourceClaims: 'unsupported', resources: 'unsupported',
};

const METADATA_FIELDS: FieldTable = {
  name: 'honoured', namespace: 'honoured',
  labels: 'ignored', annotations: 'ignored',
  // Set by the API server; present in `kubectl get -o yaml` output.
  uid: 'ignored', resourceVersion: 'ignored', generation: 'ignored', creationTimestamp: 'ignored',
  deletionTimestamp: 'ignored', deletionGracePeriodSeconds: 'ignored', managedFields: 'ignored', selfLink: 'ignored',
  ownerReferences: 'ignored', finalizers: 'ignored',
  generateName: 'unsupported',
};

const POD_FIELDS: FieldTable = {
  apiVersion: 'honoured', kind: 'honoured', metadata: METADATA_FIELDS, spec: POD_SPEC_FIELDS, status: 'ignored',
};

// kubectl warns about each unknown field; an unsupported one is reported once
// however many containers (init containers included) set it, at the first
// place it is set.
function fieldsAreKnownAndSupported({ root }: Pod, r: Report): void {
  const reported = new Set<string>();
  const walk = (object: unknown, table: FieldTable, path: string): void => {
    if (!isObject(object)) return; // a wrong type is a strict check's business
    for (const [key, value] of Object.entries(object)) {
      const field = path ? `${path}.${key}` : key;
      const rule = Object.hasOwn(table, key) ? table[key] : undefined;
      if (rule === undefined) {
        r.warn(`unknown field "${field}"`);
      } else if (rule === 'unsupported') {
        const once = field.replace(/\[\d+\]/g, '[]').replace(/^spec\.initContainers\[\]/, 'spec.containers[]');
        if (isEmpty(value) || reported.has(once)) continue;
        reported.add(once);
        r.warn(`${field} is not supported by minipod and is ignored`);
      } else if (Array.isArray(rule)) {
        if (Array.isArray(value)) value.forEach((item: unknown, i) => walk(item, rule[0], `${field}[${i}]`));
      } else if (typeof rule === 'object') {
        walk(value, rule as FieldTable, field);
      }
    }
  };
  walk(root, POD_FIELDS, '');
}

// A zero value (Go's: empty, false, 0) asks for Kubernetes' default, which is
// what minipod does anyway; `kubectl get -o yaml` prints many of them
// (`resources: {}`, `priority: 0`), and they deserve no warning.
function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return value === null || value === false || value === 0 || value === '';
}

const SOFT_CHECKS: readonly Check[] = [fieldsAreKnownAndSupported];

// ---- resource names, as pkg/apis/core/helper classifies them ------------------

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

// ---- name rules, worded as k8s.io/apimachinery/pkg/util/validation ----------

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const ENV_VAR_NAME = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const matches = (format: string, value: string): boolean => new RegExp(`^${format}$`).test(value);
const maxLenError = (length: number): string => `must be no more than ${length} characters`;

// Go's RegexError, down to the doubled space it leaves before each " or ".
function regexError(message: string, format: string, ...examples: string[]): string {
  const eg = examples.map((e) => `'${e}', `).join(' or ');
  return `${message} (e.g. ${eg}regex used for validation is '${format}')`;
}

function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLenError(63));
  if (!matches(DNS1123_LABEL, value)) {
    errors.push(
      matches(DNS1123_SUBDOMAIN, value)
        ? 'must not contain dots'
        : regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          DNS1123_LABEL, 'my-name', '123-abc',
        ),
    );
  }
  return errors;
}

function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLenError(253));
  if (!matches(DNS1123_SUBDOMAIN, value)) {
    errors.push(regexError(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      DNS1123_SUBDOMAIN, 'example.com',
    ));
  }
  return errors;
}

/** IsQualifiedName: a label key, `[prefix/]name`. */
function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const name = parts.at(-1)!;
  const errors: string[] = [];
  if (parts.length === 2) {
    if (parts[0] === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(parts[0]!).map((msg) => `prefix part ${msg}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push(`name part ${maxLenError(63)}`);
  if (!matches(QUALIFIED_NAME, name)) errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

function envVarNameErrors(value: string): string[] {
  const errors: string[] = [];
  if (!matches(ENV_VAR_NAME, value)) {
    errors.push(regexError(
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
      ENV_VAR_NAME, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1',
    ));
  }
  if (value === '.') errors.push("must not be '.'");
  else if (value === '..') errors.push("must not be '..'");
  else if (value.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}
