// Pod manifest validation as a list of small named checks, the way runc's
// libcontainer validator works: strict checks collect Kubernetes-style field
// errors (all of them, so one run shows every problem), the soft check only
// warns. Messages copy Kubernetes' wording so what users find when they
// search an error is the Kubernetes documentation for it.
import { MinipodError } from '../errors.ts';
import type { PodManifest } from './manifest.ts';

/** Kubernetes' field.ErrorType texts. */
export type FieldErrorType = 'Required value' | 'Invalid value' | 'Unsupported value' | 'Duplicate value';

export interface FieldError {
  /** Kubernetes' field path: `spec.containers[1].name`. */
  field: string;
  type: FieldErrorType;
  /** The offending value; Kubernetes does not print one for `Required value`. */
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

/** `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", ...`, as field.Error.Error() does. */
export function formatFieldError({ field, type, value, detail }: FieldError): string {
  let body: string = type === 'Required value' ? type : `${type}: ${formatValue(value)}`;
  if (detail) body += `: ${detail}`;
  return field ? `${field}: ${body}` : body;
}

/** Beyond this many characters a value is cut: the error is one line to read, not a copy of the manifest. */
const MAX_VALUE_CHARS = 300;

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
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
  unsupported(field: string, value: unknown, supported: readonly string[]): void {
    const detail = `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`;
    this.errors.push({ field, type: 'Unsupported value', value, detail });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

/** The parts of the manifest the checks look at, found once; a part of the wrong type is left out (its own check reports it). */
interface Pod {
  root: Obj;
  /** {} when absent: the name check then reports what is missing. */
  metadata?: Obj;
  spec?: Obj;
  containers: { path: string; container: Obj }[];
}

function locate(root: Obj): Pod {
  const metadata = get(root, 'metadata') ?? {};
  const spec = get(root, 'spec');
  const list = isObject(spec) ? get(spec, 'containers') : undefined;
  const containers = (Array.isArray(list) ? list : [])
    .map((container: unknown, i) => ({ path: `spec.containers[${i}]`, container }))
    .filter((c): c is Pod['containers'][number] => isObject(c.container));
  return {
    root,
    metadata: isObject(metadata) ? metadata : undefined,
    spec: isObject(spec) ? spec : undefined,
    containers,
  };
}

type Check = (pod: Pod, report: Report) => void;

// ---- strict checks ----------------------------------------------------------

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
  if (!metadata) return;
  const name = get(metadata, 'name');
  if (name === undefined || name === '') return r.required('metadata.name');
  if (typeof name !== 'string') return r.invalid('metadata.name', name, 'must be a string');
  for (const msg of dns1123SubdomainErrors(name)) r.invalid('metadata.name', name, msg);
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
  if (!Array.isArray(containers)) return r.invalid('spec.containers', containers, 'must be an array');
  containers.forEach((c: unknown, i) => {
    if (!isObject(c)) r.invalid(`spec.containers[${i}]`, c, 'must be an object');
  });
}

function containerNamesAreUniqueLabels({ containers }: Pod, r: Report): void {
  const seen = new Set<string>();
  for (const { path, container } of containers) {
    const name = get(container, 'name');
    if (name === undefined || name === '') {
      r.required(`${path}.name`);
      continue;
    }
    if (typeof name !== 'string') {
      r.invalid(`${path}.name`, name, 'must be a string');
      continue;
    }
    for (const msg of dns1123LabelErrors(name)) r.invalid(`${path}.name`, name, msg);
    if (seen.has(name)) r.duplicate(`${path}.name`, name);
    seen.add(name);
  }
}

// Init containers are not run yet, but their names already share the
// containers' namespace; Kubernetes reports a clash on the init container.
function initContainerNamesAreUnique({ spec, containers }: Pod, r: Report): void {
  const init = spec && get(spec, 'initContainers');
  if (!Array.isArray(init)) return;
  const seen = new Set(containers.map(({ container }) => get(container, 'name')));
  init.forEach((c: unknown, i) => {
    const name = isObject(c) ? get(c, 'name') : undefined;
    if (typeof name !== 'string' || name === '') return;
    if (seen.has(name)) r.duplicate(`spec.initContainers[${i}].name`, name);
    seen.add(name);
  });
}

function imagesAreSet({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const image = get(container, 'image');
    if (image === undefined || image === '') r.required(`${path}.image`);
    else if (typeof image !== 'string') r.invalid(`${path}.image`, image, 'must be a string');
    else if (image !== image.trim()) r.invalid(`${path}.image`, image, 'must not have leading or trailing whitespace');
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
    if (env === undefined) continue;
    if (!Array.isArray(env)) {
      r.invalid(`${path}.env`, env, 'must be an array');
      continue;
    }
    env.forEach((entry: unknown, i) => {
      const at = `${path}.env[${i}]`;
      if (!isObject(entry)) return r.invalid(at, entry, 'must be an object');
      const name = get(entry, 'name');
      if (name === undefined || name === '') r.required(`${at}.name`);
      else if (typeof name !== 'string') r.invalid(`${at}.name`, name, 'must be a string');
      else for (const msg of envVarNameErrors(name)) r.invalid(`${at}.name`, name, msg);
      const value = get(entry, 'value');
      if (value !== undefined && typeof value !== 'string') r.invalid(`${at}.value`, value, 'must be a string');
    });
  }
}

function workingDirIsAbsolute({ containers }: Pod, r: Report): void {
  for (const { path, container } of containers) {
    const dir = get(container, 'workingDir');
    if (dir === undefined || dir === '') continue;
    if (typeof dir !== 'string') r.invalid(`${path}.workingDir`, dir, 'must be a string');
    else if (!dir.startsWith('/')) r.invalid(`${path}.workingDir`, dir, 'must be an absolute path');
  }
}

function restartPolicyIsKnown({ spec }: Pod, r: Report): void {
  const policy = spec && get(spec, 'restartPolicy');
  if (policy !== undefined) requireOneOf(r, 'spec.restartPolicy', policy, ['Always', 'OnFailure', 'Never']);
}

function hostnameIsDnsLabel({ spec }: Pod, r: Report): void {
  if (spec) optionalLabel(r, 'spec.hostname', get(spec, 'hostname'));
}

function shareProcessNamespaceIsBoolean({ spec }: Pod, r: Report): void {
  const share = spec && get(spec, 'shareProcessNamespace');
  if (share !== undefined && typeof share !== 'boolean') r.invalid('spec.shareProcessNamespace', share, 'must be a boolean');
}

function gracePeriodIsNonNegative({ spec }: Pod, r: Report): void {
  const field = 'spec.terminationGracePeriodSeconds';
  const grace = spec && get(spec, 'terminationGracePeriodSeconds');
  if (grace === undefined) return;
  if (typeof grace !== 'number' || !Number.isInteger(grace)) r.invalid(field, grace, 'must be an integer');
  else if (grace < 0) r.invalid(field, grace, 'must be greater than or equal to 0');
  // Beyond this a number has lost digits on the way in (99999999999999999999 reads as 1e20).
  else if (grace > Number.MAX_SAFE_INTEGER) r.invalid(field, grace, `must be less than or equal to ${Number.MAX_SAFE_INTEGER}`);
}

const STRICT_CHECKS: readonly Check[] = [
  apiVersionIsV1,
  kindIsPod,
  metadataIsObject,
  nameIsDnsSubdomain,
  namespaceIsDnsLabel,
  specIsObject,
  containersAreListed,
  containerNamesAreUniqueLabels,
  initContainerNamesAreUnique,
  imagesAreSet,
  commandAndArgsAreStringArrays,
  envIsValid,
  workingDirIsAbsolute,
  restartPolicyIsKnown,
  hostnameIsDnsLabel,
  shareProcessNamespaceIsBoolean,
  gracePeriodIsNonNegative,
];

function requireOneOf(r: Report, field: string, value: unknown, supported: readonly string[]): void {
  if (value === undefined) r.required(field);
  else if (typeof value !== 'string' || !supported.includes(value)) r.unsupported(field, value, supported);
}

// An empty string is Go's zero value: Kubernetes reads it as "not set".
function optionalLabel(r: Report, field: string, value: unknown): void {
  if (value === undefined || value === '') return;
  if (typeof value !== 'string') return r.invalid(field, value, 'must be a string');
  for (const msg of dns1123LabelErrors(value)) r.invalid(field, value, msg);
}

// ---- soft check: fields minipod does not know or does not honour --------------

/**
 * What minipod does with each field Kubernetes defines for a Pod. 'honoured'
 * fields are checked above and acted on; 'ignored' ones are accepted silently
 * because ignoring them is what Kubernetes amounts to here (informational
 * fields, server-set metadata, image pulling: images are local); 'unsupported'
 * ones change behaviour in Kubernetes and minipod warns that it drops them.
 * A nested table is walked; `[table]` is a list of such objects. When a
 * feature lands, move its field to 'honoured' (and add its checks).
 */
type Disposition = 'honoured' | 'ignored' | 'unsupported';
interface FieldTable {
  readonly [field: string]: Disposition | FieldTable | readonly [FieldTable];
}

const ENV_VAR_FIELDS: FieldTable = { name: 'honoured', value: 'honoured', valueFrom: 'unsupported' };

const CONTAINER_FIELDS: FieldTable = {
  name: 'honoured', image: 'honoured', command: 'honoured', args: 'honoured', env: [ENV_VAR_FIELDS], workingDir: 'honoured',
  ports: 'ignored', imagePullPolicy: 'ignored',
  envFrom: 'unsupported', resources: 'unsupported', resizePolicy: 'unsupported', restartPolicy: 'unsupported',
  volumeMounts: 'unsupported', volumeDevices: 'unsupported', livenessProbe: 'unsupported',
  readinessProbe: 'unsupported', startupProbe: 'unsupported', lifecycle: 'unsupported',
  terminationMessagePath: 'unsupported', terminationMessagePolicy: 'unsupported', securityContext: 'unsupported',
  stdin: 'unsupported', stdinOnce: 'unsupported', tty: 'unsupported',
};

const POD_SPEC_FIELDS: FieldTable = {
  containers: [CONTAINER_FIELDS], restartPolicy: 'honoured', terminationGracePeriodSeconds: 'honoured',
  hostname: 'honoured', shareProcessNamespace: 'honoured',
  imagePullSecrets: 'ignored',
  // No Services exist, so there are no service links to add either way.
  enableServiceLinks: 'ignored',
  initContainers: 'unsupported', ephemeralContainers: 'unsupported', volumes: 'unsupported',
  nodeSelector: 'unsupported', nodeName: 'unsupported', affinity: 'unsupported', tolerations: 'unsupported',
  topologySpreadConstraints: 'unsupported', schedulerName: 'unsupported', schedulingGates: 'unsupported',
  priority: 'unsupported', priorityClassName: 'unsupported', preemptionPolicy: 'unsupported',
  runtimeClassName: 'unsupported', overhead: 'unsupported', readinessGates: 'unsupported',
  activeDeadlineSeconds: 'unsupported', securityContext: 'unsupported', serviceAccountName: 'unsupported',
  serviceAccount: 'unsupported', automountServiceAccountToken: 'unsupported', dnsPolicy: 'unsupported',
  dnsConfig: 'unsupported', hostAliases: 'unsupported', hostNetwork: 'unsupported', hostPID: 'unsupported',
  hostIPC: 'unsupported', hostUsers: 'unsupported', subdomain: 'unsupported', setHostnameAsFQDN: 'unsupported',
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
// however many containers set it, at the first place it is set.
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
        const once = field.replace(/\[\d+\]/g, '[]');
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

// ---- name rules, worded as k8s.io/apimachinery/pkg/util/validation ----------

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const ENV_VAR_NAME = '[-._a-zA-Z][-._a-zA-Z0-9]*';

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
