// The soft check: fields minipod does not know or does not honour, which it
// warns about rather than refuses.
import { isObject } from '../json.ts';
import type { Pod } from './locate.ts';
import type { Report } from './report.ts';
import { PROVIDED_VOLUME_SOURCES, VOLUME_SOURCES } from './volume-checks.ts';

/**
 * What minipod does with each field Kubernetes defines for a Pod. 'honoured'
 * fields are checked by the strict checks and acted on; 'ignored' ones are
 * accepted silently because ignoring them is what Kubernetes amounts to here
 * (informational fields, server-set metadata); 'unsupported' ones change behaviour in Kubernetes and minipod warns
 * that it drops them; 'refused' ones are errors of a strict check (the
 * containers would miss what they provide), so there is nothing to warn
 * about. A nested table is walked; `[table]` is a list of such objects. When
 * a feature lands, move its field to 'honoured' (and add its checks).
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
  privileged: 'honoured', capabilities: { add: 'honoured', drop: 'honoured' }, allowPrivilegeEscalation: 'honoured',
  seccompProfile: { type: 'honoured' }, appArmorProfile: 'unsupported', seLinuxOptions: 'unsupported',
  procMount: 'unsupported', windowsOptions: 'unsupported',
};

// Init containers walk this table too.
const CONTAINER_FIELDS: FieldTable = {
  name: 'honoured', image: 'honoured', command: 'honoured', args: 'honoured', env: [ENV_VAR_FIELDS], workingDir: 'honoured',
  volumeMounts: [VOLUME_MOUNT_FIELDS], securityContext: CONTAINER_SECURITY_CONTEXT_FIELDS, restartPolicy: 'honoured',
  ports: 'ignored', imagePullPolicy: 'honoured',
  // cpu and memory are enforced through cgroups; other resource names get a warning of their own (resources.ts).
  resources: { limits: 'honoured', requests: 'honoured', claims: 'unsupported' },
  envFrom: 'unsupported', resizePolicy: 'unsupported', volumeDevices: 'unsupported', livenessProbe: 'unsupported',
  readinessProbe: 'unsupported', startupProbe: 'unsupported', lifecycle: 'unsupported',
  terminationMessagePath: 'unsupported', terminationMessagePolicy: 'unsupported',
  stdin: 'unsupported', stdinOnce: 'unsupported', tty: 'unsupported',
};

const POD_SECURITY_CONTEXT_FIELDS: FieldTable = {
  runAsUser: 'honoured', runAsGroup: 'honoured', runAsNonRoot: 'honoured', supplementalGroups: 'honoured',
  fsGroup: 'unsupported', fsGroupChangePolicy: 'unsupported', sysctls: 'unsupported', seccompProfile: { type: 'honoured' },
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
  // Registry credentials come from the auth file podman and docker read (README, Images); there are no Secrets to read them from.
  imagePullSecrets: 'unsupported',
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
export function fieldsAreKnownAndSupported({ root }: Pod, r: Report): void {
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
