import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { type FieldError, formatFieldError, ValidationError } from '../../../lib/spec/field-error.ts';
import { parsePod, validatePod } from '../../../lib/spec/validate.ts';

type Manifest = Record<string, any>;

/** A valid pod with `edit` applied: each case changes only what it tests. */
function pod(edit: (m: Manifest) => void = () => {}): Manifest {
  const m: Manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
  };
  edit(m);
  return m;
}

const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
/** A valid pod using every field minipod honours: two init containers (one a sidecar), volumes of both kinds, mounts, securityContext at both levels, every env fieldRef, resources. */
function fullPod(): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'full', namespace: 'default', labels: { app: 'web' }, annotations: { 'example.com/owner': 'ops' } },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 5,
      activeDeadlineSeconds: 3600,
      hostname: 'full-0',
      shareProcessNamespace: true,
      hostNetwork: true,
      hostIPC: false,
      hostPID: false,
      serviceAccountName: 'builder.example',
      securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, supplementalGroups: [0, 2000, 2147483647] },
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'small', emptyDir: { medium: '', sizeLimit: 1048576 } },
        { name: 'config', hostPath: { path: '/etc/minipod-test', type: 'DirectoryOrCreate' } },
        { name: 'sock', hostPath: { path: '/run/app.sock', type: '' } },
      ],
      initContainers: [
        { name: 'setup', image: 'busybox', command: ['sh', '-c', 'echo ready > /work/state'], volumeMounts: [{ name: 'scratch', mountPath: '/work' }] },
        {
          name: 'logger',
          image: 'busybox',
          restartPolicy: 'Always',
          command: ['sh', '-c', 'tail -F /logs/app.log'],
          volumeMounts: [{ name: 'scratch', mountPath: '/logs', subPath: 'logs', readOnly: true }],
          securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, readOnlyRootFilesystem: true },
          resources: { limits: { memory: '32Mi' } },
        },
      ],
      containers: [{
        name: 'app',
        image: 'busybox',
        workingDir: '/work',
        env: [
          { name: 'PLAIN', value: 'x' },
          ...['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
            'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'].map((fieldPath, i) => ({ name: `FIELD_${i}`, valueFrom: { fieldRef: { fieldPath } } })),
          { name: 'APP', value: '', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['app']" } } },
          { name: 'OWNER', valueFrom: { fieldRef: { apiVersion: '', fieldPath: "metadata.annotations['example.com/owner']" } } },
        ],
        volumeMounts: [
          { name: 'scratch', mountPath: '/work' },
          { name: 'scratch', mountPath: '/work/logs', subPath: 'logs/./app' },
          { name: 'cache', mountPath: '/cache', readOnly: false },
          { name: 'config', mountPath: '/etc/app', readOnly: true, subPath: '' },
          { name: 'sock', mountPath: '/run/app.sock' },
        ],
        resources: {
          limits: { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '1Gi', 'hugepages-2Mi': '4Mi', 'example.com/gpu': 1 },
          requests: { cpu: 0.25, memory: '128Mi', 'hugepages-2Mi': '4Mi', 'example.com/gpu': '1', 'kubernetes.io/custom': '3' },
        },
        securityContext: { runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true, readOnlyRootFilesystem: true },
      }],
    },
  };
}

/** fullPod's warning: resources are checked but not enforced yet (said once, where first set). */

const FULL_POD_WARNINGS = [
  'spec.containers[0].resources: ephemeral-storage, hugepages-2Mi, example.com/gpu, kubernetes.io/custom are not enforced by minipod (only cpu and memory are)',
];

/** A pod with the volumes given, the first mounted at /data. */
function withVolumes(...volumes: unknown[]): Manifest {
  return pod((m) => {
    m.spec.volumes = volumes;
    m.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }];
  });
}

/** `m` with `edit` applied. */
function edited(m: Manifest, edit: (m: Manifest) => void): Manifest {
  edit(m);
  return m;
}

/** A pod with two emptyDir volumes, data and more, and the mounts given in its container. */
function withMounts(...mounts: unknown[]): Manifest {
  return pod((m) => {
    m.spec.volumes = [{ name: 'data', emptyDir: {} }, { name: 'more', emptyDir: {} }];
    m.spec.containers[0].volumeMounts = mounts;
  });
}

/** A pod whose container has the env vars given. */
function withEnv(...env: unknown[]): Manifest {
  return pod((m) => (m.spec.containers[0].env = env));
}

/** A pod whose container has the resources given. */
function withResources(resources: unknown): Manifest {
  return pod((m) => (m.spec.containers[0].resources = resources));
}

const QUALIFIED_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const FIELD_PATHS = '"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"';
const HOST_PATH_TYPES = '"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"';
const ID_RANGE = 'must be between 0 and 2147483647, inclusive';
const VALUE_FROM = 'spec.containers[0].env[0].valueFrom';
const FIELD_REF = `${VALUE_FROM}.fieldRef`;
const LIMITS = 'spec.containers[0].resources.limits';
const REQUESTS = 'spec.containers[0].resources.requests';

const ENV_MSG = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

const ERROR_CASES: [string, unknown, string[]][] = [
  ['valid pod', pod(), []],
  ['null means not set', pod((m) => Object.assign(m.spec.containers[0], { command: null, env: null })), []],
  ['manifest not an object', ['a'], ['Invalid value: ["a"]: must be a Pod object']],
  ['apiVersion missing', pod((m) => delete m.apiVersion), ['apiVersion: Required value']],
  ['apiVersion v2', pod((m) => (m.apiVersion = 'v2')), ['apiVersion: Unsupported value: "v2": supported values: "v1"']],
  ['kind missing', pod((m) => delete m.kind), ['kind: Required value']],
  ['kind Deployment', pod((m) => (m.kind = 'Deployment')), ['kind: Unsupported value: "Deployment": supported values: "Pod"']],
  ['metadata not an object', pod((m) => (m.metadata = 'web')), ['metadata: Invalid value: "web": must be an object']],
  ['metadata missing', pod((m) => delete m.metadata), ['metadata.name: Required value']],
  ['name empty', pod((m) => (m.metadata.name = '')), ['metadata.name: Required value']],
  ['name null', pod((m) => (m.metadata.name = null)), ['metadata.name: Required value']],
  ['name not a string', pod((m) => (m.metadata.name = 5)), ['metadata.name: Invalid value: 5: must be a string']],
  ['name not a subdomain', pod((m) => (m.metadata.name = 'Web_1')), [`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN_MSG}`]],
  ['name with dots is fine', pod((m) => (m.metadata.name = 'web.example.com')), []],
  ['name too long', pod((m) => (m.metadata.name = 'a'.repeat(254))), [
    `metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`,
  ]],
  ['namespace with dots', pod((m) => (m.metadata.namespace = 'a.b')), ['metadata.namespace: Invalid value: "a.b": must not contain dots']],
  ['namespace upper case', pod((m) => (m.metadata.namespace = 'Prod')), [`metadata.namespace: Invalid value: "Prod": ${LABEL_MSG}`]],
  ['spec missing', pod((m) => delete m.spec), ['spec: Required value']],
  ['spec not an object', pod((m) => (m.spec = [])), ['spec: Invalid value: []: must be an object']],
  ['containers missing', pod((m) => delete m.spec.containers), ['spec.containers: Required value']],
  ['containers empty', pod((m) => (m.spec.containers = [])), ['spec.containers: Required value']],
  ['containers not an array', pod((m) => (m.spec.containers = {})), ['spec.containers: Invalid value: {}: must be an array']],
  ['container not an object', pod((m) => (m.spec.containers = ['app'])), ['spec.containers[0]: Invalid value: "app": must be an object']],
  ['container name missing', pod((m) => m.spec.containers.push({ image: 'busybox' })), ['spec.containers[1].name: Required value']],
  ['container name not a string', pod((m) => (m.spec.containers[0].name = true)), ['spec.containers[0].name: Invalid value: true: must be a string']],
  ['container name not a label', pod((m) => (m.spec.containers[0].name = 'Web_1')), [`spec.containers[0].name: Invalid value: "Web_1": ${LABEL_MSG}`]],
  ['container name with dots', pod((m) => (m.spec.containers[0].name = 'a.b')), ['spec.containers[0].name: Invalid value: "a.b": must not contain dots']],
  ['container name too long', pod((m) => (m.spec.containers[0].name = 'a'.repeat(64))), [
    `spec.containers[0].name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
  ]],
  ['container names duplicate', pod((m) => m.spec.containers.push({ name: 'app', image: 'busybox' })), [
    'spec.containers[1].name: Duplicate value: "app"',
  ]],
  ['init container name taken', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x' }, { name: 'app', image: 'x' }])), [
    'spec.initContainers[1].name: Duplicate value: "app"',
  ]],
  ['image missing', pod((m) => delete m.spec.containers[0].image), ['spec.containers[0].image: Required value']],
  ['image empty', pod((m) => (m.spec.containers[0].image = '')), ['spec.containers[0].image: Required value']],
  ['image not a string', pod((m) => (m.spec.containers[0].image = ['busybox'])), ['spec.containers[0].image: Invalid value: ["busybox"]: must be a string']],
  ['image with spaces', pod((m) => (m.spec.containers[0].image = 'busybox ')), [
    'spec.containers[0].image: Invalid value: "busybox ": must not have leading or trailing whitespace',
  ]],
  ['command a string', pod((m) => (m.spec.containers[0].command = 'ls')), ['spec.containers[0].command: Invalid value: "ls": must be an array of strings']],
  ['args with a number', pod((m) => (m.spec.containers[0].args = ['-p', 80])), ['spec.containers[0].args: Invalid value: ["-p",80]: must be an array of strings']],
  ['env not an array', pod((m) => (m.spec.containers[0].env = { A: '1' })), ['spec.containers[0].env: Invalid value: {"A":"1"}: must be an array']],
  ['env entry a string', pod((m) => (m.spec.containers[0].env = ['A=1'])), ['spec.containers[0].env[0]: Invalid value: "A=1": must be an object']],
  ['env name missing', pod((m) => (m.spec.containers[0].env = [{ value: '1' }])), ['spec.containers[0].env[0].name: Required value']],
  ['env name a number', pod((m) => (m.spec.containers[0].env = [{ name: 1 }])), ['spec.containers[0].env[0].name: Invalid value: 1: must be a string']],
  ['env name starts with a digit', pod((m) => (m.spec.containers[0].env = [{ name: 'A', value: '' }, { name: '1A' }])), [
    `spec.containers[0].env[1].name: Invalid value: "1A": ${ENV_MSG}`,
  ]],
  ['env name "."', pod((m) => (m.spec.containers[0].env = [{ name: '.' }])), [`spec.containers[0].env[0].name: Invalid value: ".": must not be '.'`]],
  ['env name ".."', pod((m) => (m.spec.containers[0].env = [{ name: '..' }])), [`spec.containers[0].env[0].name: Invalid value: "..": must not be '..'`]],
  ['env name "..x"', pod((m) => (m.spec.containers[0].env = [{ name: '..x' }])), [`spec.containers[0].env[0].name: Invalid value: "..x": must not start with '..'`]],
  ['env value a number', pod((m) => (m.spec.containers[0].env = [{ name: 'PORT', value: 8080 }])), [
    'spec.containers[0].env[0].value: Invalid value: 8080: must be a string',
  ]],
  ['workingDir relative', pod((m) => (m.spec.containers[0].workingDir = 'tmp')), ['spec.containers[0].workingDir: Invalid value: "tmp": must be an absolute path']],
  ['workingDir not a string', pod((m) => (m.spec.containers[0].workingDir = 1)), ['spec.containers[0].workingDir: Invalid value: 1: must be a string']],
  ['workingDir through the runtime\'s descriptors (CVE-2024-21626)', pod((m) => (m.spec.containers[0].workingDir = '/proc/self/fd/7')), [
    'spec.containers[0].workingDir: Invalid value: "/proc/self/fd/7": must not be under a /proc/PID/fd directory',
  ]],
  ['workingDir through descriptors, disguised', pod((m) => (m.spec.containers[0].workingDir = '/proc/1/../thread-self//fd')), [
    'spec.containers[0].workingDir: Invalid value: "/proc/1/../thread-self//fd": must not be under a /proc/PID/fd directory',
  ]],
  ['workingDir under /proc but not through descriptors', pod((m) => (m.spec.containers[0].workingDir = '/proc/self/fdinfo')), []],
  ['imagePullPolicy unknown', pod((m) => (m.spec.containers[0].imagePullPolicy = 'Sometimes')), [
    'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
  ]],
  ['imagePullPolicy of each kind', pod((m) => {
    m.spec.initContainers = [{ name: 'i', image: 'busybox', imagePullPolicy: 'Never' }];
    m.spec.containers[0].imagePullPolicy = 'IfNotPresent';
  }), []],
  ['restartPolicy unknown', pod((m) => (m.spec.restartPolicy = 'Sometimes')), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]],
  ['hostname not a label', pod((m) => (m.spec.hostname = 'My_Host')), [`spec.hostname: Invalid value: "My_Host": ${LABEL_MSG}`]],
  ['hostname too long', pod((m) => (m.spec.hostname = 'h'.repeat(64))), [`spec.hostname: Invalid value: "${'h'.repeat(64)}": must be no more than 63 characters`]],
  ['shareProcessNamespace a string', pod((m) => (m.spec.shareProcessNamespace = 'yes')), [
    'spec.shareProcessNamespace: Invalid value: "yes": must be a boolean',
  ]],
  ['grace negative', pod((m) => (m.spec.terminationGracePeriodSeconds = -1)), [
    'spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0',
  ]],
  ['grace fractional', pod((m) => (m.spec.terminationGracePeriodSeconds = 1.5)), ['spec.terminationGracePeriodSeconds: Invalid value: 1.5: must be an integer']],
  ['grace beyond what a number holds exactly', pod((m) => (m.spec.terminationGracePeriodSeconds = 1e20)), [
    'spec.terminationGracePeriodSeconds: Invalid value: 100000000000000000000: must be less than or equal to 9007199254740991',
  ]],
  ['grace infinite', pod((m) => (m.spec.terminationGracePeriodSeconds = Infinity)), ['spec.terminationGracePeriodSeconds: Invalid value: Infinity: must be an integer']],
  ['a long value is cut in the message', pod((m) => (m.metadata.name = 'a'.repeat(5000))), [
    `metadata.name: Invalid value: "${'a'.repeat(63)}... (5000 characters): must be no more than 253 characters`,
  ]],
  ['a long non-string value is cut too', pod((m) => (m.spec.containers[0].command = Array(200).fill(1))), [
    `spec.containers[0].command: Invalid value: [${'1,'.repeat(31)}1... (401 characters as JSON): must be an array of strings`,
  ]],
  ['grace a string', pod((m) => (m.spec.terminationGracePeriodSeconds = '30')), ['spec.terminationGracePeriodSeconds: Invalid value: "30": must be an integer']],
  ['every problem at once', {
    apiVersion: 'v2',
    metadata: { name: 'Web' },
    spec: { restartPolicy: 'Sometimes', containers: [{ name: 'web', command: 'ls' }, { name: 'web', image: 'busybox' }, {}] },
  }, [
    'apiVersion: Unsupported value: "v2": supported values: "v1"',
    'kind: Required value',
    `metadata.name: Invalid value: "Web": ${SUBDOMAIN_MSG}`,
    'spec.containers[1].name: Duplicate value: "web"',
    'spec.containers[2].name: Required value',
    'spec.containers[0].image: Required value',
    'spec.containers[2].image: Required value',
    'spec.containers[0].command: Invalid value: "ls": must be an array of strings',
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]],
  // ---- init containers: every container check, on spec.initContainers ----
  ['initContainers not an array', pod((m) => (m.spec.initContainers = { name: 'init' })), [
    'spec.initContainers: Invalid value: {"name":"init"}: must be an array',
  ]],
  ['init container not an object', pod((m) => (m.spec.initContainers = ['init'])), ['spec.initContainers[0]: Invalid value: "init": must be an object']],
  ['init containers empty', pod((m) => (m.spec.initContainers = [])), []],
  ['init container name missing', pod((m) => (m.spec.initContainers = [{ image: 'busybox' }])), ['spec.initContainers[0].name: Required value']],
  ['init container name not a label', pod((m) => (m.spec.initContainers = [{ name: 'Init_1', image: 'busybox' }])), [
    `spec.initContainers[0].name: Invalid value: "Init_1": ${LABEL_MSG}`,
  ]],
  ['init container names duplicate', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x' }, { name: 'init', image: 'x' }])), [
    'spec.initContainers[1].name: Duplicate value: "init"',
  ]],
  ['init container without image', pod((m) => (m.spec.initContainers = [{ name: 'init' }])), ['spec.initContainers[0].image: Required value']],
  ['init container command a string', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', command: 'ls' }])), [
    'spec.initContainers[0].command: Invalid value: "ls": must be an array of strings',
  ]],
  ['init container env name', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', env: [{ name: '1A' }] }])), [
    `spec.initContainers[0].env[0].name: Invalid value: "1A": ${ENV_MSG}`,
  ]],
  ['init container workingDir relative', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', workingDir: 'tmp' }])), [
    'spec.initContainers[0].workingDir: Invalid value: "tmp": must be an absolute path',
  ]],
  ['init container checks come after the app containers\'', pod((m) => {
    m.spec.initContainers = [{ name: 'init' }];
    delete m.spec.containers[0].image;
  }), ['spec.containers[0].image: Required value', 'spec.initContainers[0].image: Required value']],
  ['sidecar: init container restartPolicy Always', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', restartPolicy: 'Always' }])), []],
  ['init container restartPolicy Never', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', restartPolicy: 'Never' }])), [
    'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ]],
  ['init container restartPolicy empty', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', restartPolicy: '' }])), [
    'spec.initContainers[0].restartPolicy: Unsupported value: "": supported values: "Always"',
  ]],
  ['init container restartPolicy null', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', restartPolicy: null }])), []],
  ['app container restartPolicy', pod((m) => (m.spec.containers[0].restartPolicy = 'Always')), [
    'spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers',
  ]],
  // ---- activeDeadlineSeconds ----
  ['activeDeadlineSeconds at the bounds', pod((m) => (m.spec.activeDeadlineSeconds = 2147483647)), []],
  ['activeDeadlineSeconds 0', pod((m) => (m.spec.activeDeadlineSeconds = 0)), [
    'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
  ]],
  ['activeDeadlineSeconds past int32', pod((m) => (m.spec.activeDeadlineSeconds = 2147483648)), [
    'spec.activeDeadlineSeconds: Invalid value: 2147483648: must be between 1 and 2147483647, inclusive',
  ]],
  ['activeDeadlineSeconds 1e12', pod((m) => (m.spec.activeDeadlineSeconds = 1e12)), [
    'spec.activeDeadlineSeconds: Invalid value: 1000000000000: must be between 1 and 2147483647, inclusive',
  ]],
  ['activeDeadlineSeconds fractional', pod((m) => (m.spec.activeDeadlineSeconds = 1.5)), ['spec.activeDeadlineSeconds: Invalid value: 1.5: must be an integer']],
  ['activeDeadlineSeconds a string', pod((m) => (m.spec.activeDeadlineSeconds = '60')), ['spec.activeDeadlineSeconds: Invalid value: "60": must be an integer']],
  // ---- host namespaces ----
  ['hostNetwork a string', pod((m) => (m.spec.hostNetwork = 'yes')), ['spec.hostNetwork: Invalid value: "yes": must be a boolean']],
  ['hostIPC a number', pod((m) => (m.spec.hostIPC = 1)), ['spec.hostIPC: Invalid value: 1: must be a boolean']],
  ['hostPID a string', pod((m) => (m.spec.hostPID = 'true')), ['spec.hostPID: Invalid value: "true": must be a boolean']],
  ['shareProcessNamespace with hostPID', pod((m) => Object.assign(m.spec, { shareProcessNamespace: true, hostPID: true })), [
    'spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled',
  ]],
  ['hostPID without shareProcessNamespace', pod((m) => Object.assign(m.spec, { shareProcessNamespace: false, hostPID: true })), []],
  // ---- serviceAccountName, nodeName ----
  ['serviceAccountName not a subdomain', pod((m) => (m.spec.serviceAccountName = 'Build_Bot')), [
    `spec.serviceAccountName: Invalid value: "Build_Bot": ${SUBDOMAIN_MSG}`,
  ]],
  ['serviceAccountName a number', pod((m) => (m.spec.serviceAccountName = 7)), ['spec.serviceAccountName: Invalid value: 7: must be a string']],
  ['nodeName not a subdomain', pod((m) => (m.spec.nodeName = 'Node_1')), [`spec.nodeName: Invalid value: "Node_1": ${SUBDOMAIN_MSG}`]],
  // ---- securityContext ----
  ['pod securityContext not an object', pod((m) => (m.spec.securityContext = 'root')), ['spec.securityContext: Invalid value: "root": must be an object']],
  ['pod runAsUser -1', pod((m) => (m.spec.securityContext = { runAsUser: -1 })), [`spec.securityContext.runAsUser: Invalid value: -1: ${ID_RANGE}`]],
  ['pod runAsUser past int32', pod((m) => (m.spec.securityContext = { runAsUser: 2147483648 })), [
    `spec.securityContext.runAsUser: Invalid value: 2147483648: ${ID_RANGE}`,
  ]],
  ['pod runAsUser a name', pod((m) => (m.spec.securityContext = { runAsUser: 'root' })), ['spec.securityContext.runAsUser: Invalid value: "root": must be an integer']],
  ['pod runAsGroup fractional', pod((m) => (m.spec.securityContext = { runAsGroup: 1.5 })), ['spec.securityContext.runAsGroup: Invalid value: 1.5: must be an integer']],
  ['pod runAsNonRoot a string', pod((m) => (m.spec.securityContext = { runAsNonRoot: 'yes' })), ['spec.securityContext.runAsNonRoot: Invalid value: "yes": must be a boolean']],
  ['supplementalGroups not an array', pod((m) => (m.spec.securityContext = { supplementalGroups: 5 })), [
    'spec.securityContext.supplementalGroups: Invalid value: 5: must be an array',
  ]],
  ['supplementalGroups with bad ids', pod((m) => (m.spec.securityContext = { supplementalGroups: [1, -1, '2', null] })), [
    `spec.securityContext.supplementalGroups[1]: Invalid value: -1: ${ID_RANGE}`,
    'spec.securityContext.supplementalGroups[2]: Invalid value: "2": must be an integer',
    'spec.securityContext.supplementalGroups[3]: Invalid value: null: must be an integer',
  ]],
  ['container securityContext not an object', pod((m) => (m.spec.containers[0].securityContext = [])), [
    'spec.containers[0].securityContext: Invalid value: []: must be an object',
  ]],
  ['container runAsUser -1', pod((m) => (m.spec.containers[0].securityContext = { runAsUser: -1 })), [
    `spec.containers[0].securityContext.runAsUser: Invalid value: -1: ${ID_RANGE}`,
  ]],
  ['container runAsGroup a string', pod((m) => (m.spec.containers[0].securityContext = { runAsGroup: 'wheel' })), [
    'spec.containers[0].securityContext.runAsGroup: Invalid value: "wheel": must be an integer',
  ]],
  ['container runAsNonRoot a number', pod((m) => (m.spec.containers[0].securityContext = { runAsNonRoot: 1 })), [
    'spec.containers[0].securityContext.runAsNonRoot: Invalid value: 1: must be a boolean',
  ]],
  ['readOnlyRootFilesystem a string', pod((m) => (m.spec.containers[0].securityContext = { readOnlyRootFilesystem: 'yes' })), [
    'spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: "yes": must be a boolean',
  ]],
  ['init container runAsUser', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', securityContext: { runAsUser: -5 } }])), [
    `spec.initContainers[0].securityContext.runAsUser: Invalid value: -5: ${ID_RANGE}`,
  ]],
  // ---- volumes ----
  ['volumes not an array', pod((m) => (m.spec.volumes = { data: {} })), ['spec.volumes: Invalid value: {"data":{}}: must be an array']],
  ['volume not an object', pod((m) => (m.spec.volumes = ['data'])), ['spec.volumes[0]: Invalid value: "data": must be an object']],
  ['volume name missing', pod((m) => (m.spec.volumes = [{ emptyDir: {} }])), ['spec.volumes[0].name: Required value']],
  ['volume name not a label', pod((m) => (m.spec.volumes = [{ name: 'my_data', emptyDir: {} }])), [`spec.volumes[0].name: Invalid value: "my_data": ${LABEL_MSG}`]],
  ['volume names duplicate', pod((m) => (m.spec.volumes = [{ name: 'data', emptyDir: {} }, { name: 'data', hostPath: { path: '/srv' } }])), [
    'spec.volumes[1].name: Duplicate value: "data"',
  ]],
  ['volume without source', withVolumes({ name: 'data' }), ['spec.volumes[0]: Required value: must specify a volume type']],
  ['volume with a null source', withVolumes({ name: 'data', emptyDir: null }), ['spec.volumes[0]: Required value: must specify a volume type']],
  ['volume with two sources', withVolumes({ name: 'data', hostPath: { path: '/srv' }, emptyDir: {} }), [
    'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
  ]],
  ['volume with three sources', withVolumes({ name: 'data', configMap: { name: 'c' }, hostPath: { path: '/srv' }, emptyDir: {} }), [
    'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
    'spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type',
  ]],
  ['configMap volume', withVolumes({ name: 'data', configMap: { name: 'settings' } }), [
    'spec.volumes[0].configMap: Unsupported value: "configMap": supported values: "emptyDir", "hostPath"',
  ]],
  ['persistentVolumeClaim volume', withVolumes({ name: 'data', persistentVolumeClaim: { claimName: 'db' } }), [
    'spec.volumes[0].persistentVolumeClaim: Unsupported value: "persistentVolumeClaim": supported values: "emptyDir", "hostPath"',
  ]],
  ['secret and downwardAPI volume', withVolumes({ name: 'data', downwardAPI: {}, secret: { secretName: 's' } }), [
    'spec.volumes[0].secret: Unsupported value: "secret": supported values: "emptyDir", "hostPath"',
    'spec.volumes[0].downwardAPI: Forbidden: may not specify more than 1 volume type',
  ]],
  ['emptyDir not an object', withVolumes({ name: 'data', emptyDir: 'tmpfs' }), ['spec.volumes[0].emptyDir: Invalid value: "tmpfs": must be an object']],
  ['emptyDir HugePages medium', withVolumes({ name: 'data', emptyDir: { medium: 'HugePages' } }), [
    'spec.volumes[0].emptyDir.medium: Unsupported value: "HugePages": supported values: "", "Memory"',
  ]],
  ['emptyDir medium in lower case', withVolumes({ name: 'data', emptyDir: { medium: 'memory' } }), [
    'spec.volumes[0].emptyDir.medium: Unsupported value: "memory": supported values: "", "Memory"',
  ]],
  ['emptyDir sizeLimit 12XB', withVolumes({ name: 'data', emptyDir: { sizeLimit: '12XB' } }), [
    `spec.volumes[0].emptyDir.sizeLimit: Invalid value: "12XB": ${QUANTITY_MSG}`,
  ]],
  ['emptyDir sizeLimit a boolean', withVolumes({ name: 'data', emptyDir: { sizeLimit: true } }), [
    `spec.volumes[0].emptyDir.sizeLimit: Invalid value: true: ${QUANTITY_MSG}`,
  ]],
  ['emptyDir sizeLimit negative', withVolumes({ name: 'data', emptyDir: { sizeLimit: '-1Gi' } }), [
    'spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity',
  ]],
  ['hostPath not an object', withVolumes({ name: 'data', hostPath: '/srv' }), ['spec.volumes[0].hostPath: Invalid value: "/srv": must be an object']],
  ['hostPath without path', withVolumes({ name: 'data', hostPath: { type: 'Directory' } }), ['spec.volumes[0].hostPath.path: Required value']],
  ['hostPath relative', withVolumes({ name: 'data', hostPath: { path: 'srv/data' } }), [
    'spec.volumes[0].hostPath.path: Invalid value: "srv/data": must be an absolute path',
  ]],
  ['hostPath with ..', withVolumes({ name: 'data', hostPath: { path: '/srv/../etc' } }), [
    "spec.volumes[0].hostPath.path: Invalid value: \"/srv/../etc\": must not contain '..'",
  ]],
  ['hostPath ending in ..', withVolumes({ name: 'data', hostPath: { path: '/srv/..' } }), [
    "spec.volumes[0].hostPath.path: Invalid value: \"/srv/..\": must not contain '..'",
  ]],
  ['hostPath with .. inside a name', withVolumes({ name: 'data', hostPath: { path: '/srv/a..b' } }), []],
  ['hostPath type unknown', withVolumes({ name: 'data', hostPath: { path: '/srv', type: 'Dir' } }), [
    `spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: ${HOST_PATH_TYPES}`,
  ]],
  // ---- volumeMounts ----
  ['volumeMounts not an array', pod((m) => (m.spec.containers[0].volumeMounts = { name: 'data' })), [
    'spec.containers[0].volumeMounts: Invalid value: {"name":"data"}: must be an array',
  ]],
  ['volumeMount not an object', pod((m) => (m.spec.containers[0].volumeMounts = ['/data'])), [
    'spec.containers[0].volumeMounts[0]: Invalid value: "/data": must be an object',
  ]],
  ['volumeMount name missing', pod((m) => (m.spec.containers[0].volumeMounts = [{ mountPath: '/data' }])), [
    'spec.containers[0].volumeMounts[0].name: Required value',
  ]],
  ['volumeMount of a missing volume', pod((m) => (m.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }])), [
    'spec.containers[0].volumeMounts[0].name: Not found: "data"',
  ]],
  ['volumeMount of a volume whose source is wrong', withVolumes({ name: 'data', secret: { secretName: 's' } }), [
    'spec.volumes[0].secret: Unsupported value: "secret": supported values: "emptyDir", "hostPath"',
  ]],
  ['volumeMount when volumes is not a list', pod((m) => {
    m.spec.volumes = 'data';
    m.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }];
  }), ['spec.volumes: Invalid value: "data": must be an array']],
  ['volumeMount mountPath missing', withMounts({ name: 'data' }), ['spec.containers[0].volumeMounts[0].mountPath: Required value']],
  ['volumeMount mountPath relative', withMounts({ name: 'data', mountPath: 'data' }), [
    'spec.containers[0].volumeMounts[0].mountPath: Invalid value: "data": must be an absolute path',
  ]],
  ['volumeMount mountPaths duplicate', withMounts({ name: 'data', mountPath: '/data' }, { name: 'more', mountPath: '/data' }), [
    'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
  ]],
  ['one volume mounted twice', withMounts({ name: 'data', mountPath: '/data' }, { name: 'data', mountPath: '/copy', readOnly: true }), []],
  ['the same mountPath in two containers', edited(withMounts({ name: 'data', mountPath: '/data' }), (m) => {
    m.spec.containers.push({ name: 'other', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] });
  }), []],
  ['volumeMount readOnly a string', withMounts({ name: 'data', mountPath: '/data', readOnly: 'yes' }), [
    'spec.containers[0].volumeMounts[0].readOnly: Invalid value: "yes": must be a boolean',
  ]],
  ['volumeMount subPath absolute', withMounts({ name: 'data', mountPath: '/data', subPath: '/etc' }), [
    'spec.containers[0].volumeMounts[0].subPath: Invalid value: "/etc": must be a relative path',
  ]],
  ['volumeMount subPath with ..', withMounts({ name: 'data', mountPath: '/data', subPath: 'a/../../etc' }), [
    "spec.containers[0].volumeMounts[0].subPath: Invalid value: \"a/../../etc\": must not contain '..'",
  ]],
  ['volumeMount subPath absolute and with ..', withMounts({ name: 'data', mountPath: '/data', subPath: '/..' }), [
    'spec.containers[0].volumeMounts[0].subPath: Invalid value: "/..": must be a relative path',
    "spec.containers[0].volumeMounts[0].subPath: Invalid value: \"/..\": must not contain '..'",
  ]],
  ['volumeMount subPath starting with ..x is fine', withMounts({ name: 'data', mountPath: '/data', subPath: '..x/y' }), []],
  ['volumeMount subPath a number', withMounts({ name: 'data', mountPath: '/data', subPath: 1 }), [
    'spec.containers[0].volumeMounts[0].subPath: Invalid value: 1: must be a string',
  ]],
  ['init container mount of a missing volume', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }] }])), [
    'spec.initContainers[0].volumeMounts[0].name: Not found: "data"',
  ]],
  // ---- env valueFrom ----
  ['valueFrom not an object', withEnv({ name: 'A', valueFrom: 'metadata.name' }), [`${VALUE_FROM}: Invalid value: "metadata.name": must be an object`]],
  ['valueFrom empty', withEnv({ name: 'A', valueFrom: {} }), [
    `${VALUE_FROM}: Invalid value: "": must specify one of: \`fieldRef\`, \`resourceFieldRef\`, \`configMapKeyRef\` or \`secretKeyRef\``,
  ]],
  ['valueFrom with value', withEnv({ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }), [
    `${VALUE_FROM}: Invalid value: "": may not be specified when \`value\` is not empty`,
  ]],
  ['valueFrom with two sources', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } }), [
    `${VALUE_FROM}.secretKeyRef: Unsupported value: "secretKeyRef": supported values: "fieldRef"`,
    `${VALUE_FROM}: Invalid value: "": may not have more than one field specified at a time`,
  ]],
  ['secretKeyRef', withEnv({ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }), [
    `${VALUE_FROM}.secretKeyRef: Unsupported value: "secretKeyRef": supported values: "fieldRef"`,
  ]],
  ['configMapKeyRef', withEnv({ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }), [
    `${VALUE_FROM}.configMapKeyRef: Unsupported value: "configMapKeyRef": supported values: "fieldRef"`,
  ]],
  ['resourceFieldRef', withEnv({ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }), [
    `${VALUE_FROM}.resourceFieldRef: Unsupported value: "resourceFieldRef": supported values: "fieldRef"`,
  ]],
  ['fieldRef not an object', withEnv({ name: 'A', valueFrom: { fieldRef: 'metadata.name' } }), [`${FIELD_REF}: Invalid value: "metadata.name": must be an object`]],
  ['fieldRef without fieldPath', withEnv({ name: 'A', valueFrom: { fieldRef: { apiVersion: 'v1' } } }), [`${FIELD_REF}.fieldPath: Required value`]],
  ['fieldPath a number', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 1 } } }), [`${FIELD_REF}.fieldPath: Invalid value: 1: must be a string`]],
  ['fieldPath unknown', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.owner' } } }), [
    `${FIELD_REF}.fieldPath: Invalid value: "metadata.owner": error converting fieldPath: field label not supported: metadata.owner`,
  ]],
  ['fieldPath status.phase', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }), [
    `${FIELD_REF}.fieldPath: Unsupported value: "status.phase": supported values: ${FIELD_PATHS}`,
  ]],
  ['fieldPath metadata.labels without a key', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }), [
    `${FIELD_REF}.fieldPath: Unsupported value: "metadata.labels": supported values: ${FIELD_PATHS}`,
  ]],
  ['fieldPath spec.host, the old spelling', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.host' } } }), [
    `${FIELD_REF}.fieldPath: Unsupported value: "spec.host": supported values: ${FIELD_PATHS}`,
  ]],
  ['fieldPath with a subscript it does not take', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "spec.nodeName['x']" } } }), [
    `${FIELD_REF}.fieldPath: Invalid value: "spec.nodeName['x']": error converting fieldPath: field label does not support subscript: spec.nodeName['x']`,
  ]],
  ['label key not a qualified name', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.labels['my key']" } } }), [
    `${FIELD_REF}: Invalid value: "my key": name part ${QUALIFIED_MSG}`,
  ]],
  ['label key empty', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.labels['']" } } }), [
    `${FIELD_REF}: Invalid value: "": name part must be non-empty`,
    `${FIELD_REF}: Invalid value: "": name part ${QUALIFIED_MSG}`,
  ]],
  ['label key with a bad prefix', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.labels['Example.com/app']" } } }), [
    `${FIELD_REF}: Invalid value: "Example.com/app": prefix part ${SUBDOMAIN_MSG}`,
  ]],
  ['annotation key checked in lower case', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['Example.com/Owner']" } } }), []],
  ['annotation key with two slashes', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['a/b/c']" } } }), [
    `${FIELD_REF}: Invalid value: "a/b/c": a qualified name ${QUALIFIED_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
  ]],
  ['label key too long', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${'k'.repeat(64)}']` } } }), [
    `${FIELD_REF}: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`,
  ]],
  ['fieldRef apiVersion v2', withEnv({ name: 'A', valueFrom: { fieldRef: { apiVersion: 'v2', fieldPath: 'metadata.name' } } }), [
    `${FIELD_REF}.fieldPath: Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v2`,
  ]],
  ['fieldRef apiVersion a number', withEnv({ name: 'A', valueFrom: { fieldRef: { apiVersion: 1, fieldPath: 'metadata.name' } } }), [
    `${FIELD_REF}.apiVersion: Invalid value: 1: must be a string`,
  ]],
  // ---- resources ----
  ['resources not an object', withResources('small'), ['spec.containers[0].resources: Invalid value: "small": must be an object']],
  ['limits not an object', withResources({ limits: ['cpu'] }), [`${LIMITS}: Invalid value: ["cpu"]: must be an object`]],
  ['memory 12XB', withResources({ limits: { memory: '12XB' } }), [`${LIMITS}[memory]: Invalid value: "12XB": ${QUANTITY_MSG}`]],
  ['cpu a boolean', withResources({ requests: { cpu: true } }), [`${REQUESTS}[cpu]: Invalid value: true: ${QUANTITY_MSG}`]],
  ['cpu with a bad suffix', withResources({ requests: { cpu: '1e' } }), [`${REQUESTS}[cpu]: Invalid value: "1e": unable to parse quantity's suffix`]],
  ['memory negative', withResources({ limits: { memory: '-128Mi' } }), [`${LIMITS}[memory]: Invalid value: "-128Mi": must be greater than or equal to 0`]],
  ['cpu request above its limit', withResources({ limits: { cpu: 1 }, requests: { cpu: '2' } }), [
    `${REQUESTS}: Invalid value: "2": must be less than or equal to cpu limit of 1`,
  ]],
  ['memory request above its limit, printed canonically', withResources({ limits: { memory: '1Gi' }, requests: { memory: '2048Mi' } }), [
    `${REQUESTS}: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`,
  ]],
  ['request equal to its limit', withResources({ limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: 0.5, memory: '1073741824' } }), []],
  ['request without a limit', withResources({ requests: { cpu: '100m' } }), []],
  ['resource name unknown', withResources({ limits: { gpu: '1' } }), [
    `${LIMITS}[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
    `${LIMITS}[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
  ]],
  ['resource name not for containers', withResources({ limits: { pods: '1' } }), [`${LIMITS}[pods]: Invalid value: "pods": must be a standard resource for containers`]],
  ['resource name not a qualified name', withResources({ limits: { 'my cpu': '1' } }), [
    `${LIMITS}[my cpu]: Invalid value: "my cpu": name part ${QUALIFIED_MSG}`,
    `${LIMITS}[my cpu]: Invalid value: "my cpu": must be a standard resource for containers`,
  ]],
  ['extended resource name with requests. in front', withResources({ limits: { 'requests.example.com/gpu': '1' } }), [
    `${LIMITS}[requests.example.com/gpu]: Invalid value: "requests.example.com/gpu": doesn't follow extended resource name standard`,
  ]],
  ['extended resource not a whole number', withResources({ limits: { 'example.com/gpu': '1500m' } }), [
    `${LIMITS}[example.com/gpu]: Invalid value: 1500m: must be an integer`,
  ]],
  ['extended resource request below its limit', withResources({ limits: { 'example.com/gpu': 2 }, requests: { 'example.com/gpu': 1 } }), [
    `${REQUESTS}: Invalid value: "1": must be equal to example.com/gpu limit of 2`,
  ]],
  ['extended resource request without a limit', withResources({ requests: { 'example.com/gpu': 1 } }), [
    `${LIMITS}: Required value: Limit must be set for non overcommitable resources`,
  ]],
  ['hugepages not a whole number of pages', withResources({ limits: { memory: '1Gi', 'hugepages-2Mi': '3Mi' } }), [
    `${LIMITS}[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi`,
  ]],
  ['hugepages without cpu or memory', withResources({ limits: { 'hugepages-2Mi': '4Mi' } }), [
    'spec.containers[0].resources: Forbidden: HugePages require cpu or memory',
  ]],
  ['init container resources', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'x', resources: { limits: { memory: '-1' } } }])), [
    'spec.initContainers[0].resources.limits[memory]: Invalid value: "-1": must be greater than or equal to 0',
  ]],
  // ---- all of it ----
  ['a pod using every honoured field', fullPod(), []],
];

for (const [name, manifest, expected] of ERROR_CASES) {
  test(`errors: ${name}`, () => {
    const { errors } = validatePod(manifest);
    assert.equal(errors.map(formatFieldError), expected);
  });
}

const WARNING_CASES: [string, Manifest, string[]][] = [
  ['none for a plain pod', pod(), []],
  ['unknown top-level field', pod((m) => (m.extra = 1)), ['unknown field "extra"']],
  ['unknown metadata field', pod((m) => (m.metadata.lables = { app: 'web' })), ['unknown field "metadata.lables"']],
  ['unknown container field', pod((m) => (m.spec.containers[0].imagePullPolice = 'Never')), [
    'unknown field "spec.containers[0].imagePullPolice"',
  ]],
  ['unknown env field', pod((m) => (m.spec.containers[0].env = [{ name: 'A', vaule: '1' }])), ['unknown field "spec.containers[0].env[0].vaule"']],
  ['unsupported spec field', pod((m) => (m.spec.nodeSelector = { disk: 'ssd' })), ['spec.nodeSelector is not supported by minipod and is ignored']],
  ['unsupported metadata field', pod((m) => (m.metadata.generateName = 'web-')), ['metadata.generateName is not supported by minipod and is ignored']],
  ['none for init containers', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'busybox' }])), []],
  ['none for valueFrom.fieldRef', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }), []],
  ['for the pod using every honoured field: only the resources cgroups do not enforce', fullPod(), FULL_POD_WARNINGS],
  ['resources with claims', withResources({ claims: [{ name: 'gpu' }] }), ['spec.containers[0].resources.claims is not supported by minipod and is ignored']],
  ['none for cpu and memory', withResources({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } }), []],
  ['a resource name cgroups do not enforce', withResources({ limits: { 'ephemeral-storage': '1Gi', memory: '1Gi' }, requests: { 'ephemeral-storage': '1Gi' } }), [
    'spec.containers[0].resources: ephemeral-storage is not enforced by minipod (only cpu and memory are)',
  ]],
  ['none for empty resources', withResources({}), []],
  ['unsupported pod securityContext field', pod((m) => (m.spec.securityContext = { runAsUser: 1000, fsGroup: 2000, sysctls: [] })), [
    'spec.securityContext.fsGroup is not supported by minipod and is ignored',
  ]],
  ['unsupported container securityContext fields', pod((m) => {
    m.spec.containers[0].securityContext = { capabilities: { add: ['NET_ADMIN'] }, privileged: false, seccompProfile: { type: 'RuntimeDefault' } };
  }), [
  ]],
  ['unknown securityContext field', pod((m) => (m.spec.securityContext = { runAsUsr: 1000 })), ['unknown field "spec.securityContext.runAsUsr"']],
  ['unsupported volumeMount fields', withMounts({ name: 'data', mountPath: '/data', subPathExpr: '$(POD)', mountPropagation: 'HostToContainer' }), [
    'spec.containers[0].volumeMounts[0].subPathExpr is not supported by minipod and is ignored',
    'spec.containers[0].volumeMounts[0].mountPropagation is not supported by minipod and is ignored',
  ]],
  ['unknown volume and emptyDir fields', pod((m) => (m.spec.volumes = [{ name: 'data', emptyDir: { mediun: 'Memory' }, configmap: {} }])), [
    'unknown field "spec.volumes[0].emptyDir.mediun"',
    'unknown field "spec.volumes[0].configmap"',
  ]],
  ['unknown fieldRef field', withEnv({ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name', kind: 'Pod' } } }), [
    'unknown field "spec.containers[0].env[0].valueFrom.fieldRef.kind"',
  ]],
  ['nodeName', pod((m) => (m.spec.nodeName = 'node-1')), ['spec.nodeName is not supported by minipod and is ignored']],
  ['an unsupported field set by an app and an init container is reported once', pod((m) => {
    m.spec.containers[0].tty = true;
    m.spec.initContainers = [{ name: 'init', image: 'busybox', tty: true }];
  }), ['spec.containers[0].tty is not supported by minipod and is ignored']],
  ['unsupported and unknown init container fields', pod((m) => {
    m.spec.initContainers = [{ name: 'init', image: 'busybox', startupProbe: { exec: { command: ['true'] } }, imagePullPolice: 'Never' }];
  }), [
    'spec.initContainers[0].startupProbe is not supported by minipod and is ignored',
    'unknown field "spec.initContainers[0].imagePullPolice"',
  ]],
  ['unsupported container field reported once, where first set', pod((m) => {
    m.spec.containers = [
      { name: 'a', image: 'busybox' },
      { name: 'b', image: 'busybox', livenessProbe: { exec: { command: ['true'] } } },
      { name: 'c', image: 'busybox', livenessProbe: { exec: { command: ['true'] } } },
    ];
  }), ['spec.containers[1].livenessProbe is not supported by minipod and is ignored']],
  ['inside an unsupported field nothing is unknown', pod((m) => (m.spec.affinity = { nodeAfinity: {} })), [
    'spec.affinity is not supported by minipod and is ignored',
  ]],
  ['empty unsupported values ask for the default', pod((m) => {
    Object.assign(m.spec, { volumes: [], hostPID: false, priority: 0, securityContext: {}, dnsPolicy: '' });
    m.spec.containers[0].resources = {};
  }), []],
  ['informational fields are accepted silently', pod((m) => {
    Object.assign(m.metadata, { labels: { app: 'web' }, annotations: { a: 'b' }, uid: 'x', creationTimestamp: null });
    Object.assign(m.spec, { enableServiceLinks: true });
    Object.assign(m.spec.containers[0], { ports: [{ containerPort: 80 }] });
    m.status = { phase: 'Running' };
  }), []],
  ['imagePullSecrets: credentials come from the auth file, not from Secrets', pod((m) => {
    m.spec.imagePullSecrets = [{ name: 'reg' }];
  }), ['spec.imagePullSecrets is not supported by minipod and is ignored']],
  ['in document order', pod((m) => {
    m.spec.tolerations = [{ key: 'k' }];
    m.spec.containers[0].tty = true;
    m.spec.containers[0].colour = 'blue';
  }), [
    'spec.containers[0].tty is not supported by minipod and is ignored',
    'unknown field "spec.containers[0].colour"',
    'spec.tolerations is not supported by minipod and is ignored',
  ]],
];

for (const [name, manifest, expected] of WARNING_CASES) {
  test(`warnings: ${name}`, () => {
    const { errors, warnings } = validatePod(manifest);
    assert.equal(errors, []);
    assert.equal(warnings, expected);
  });
}

test('warnings: none for the sources minipod refuses, which are errors', () => {
  const { errors, warnings } = validatePod(pod((m) => {
    m.spec.volumes = [{ name: 'data', configMap: { name: 'settings' } }];
    m.spec.containers[0].env = [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
  }));
  assert.equal(errors.map(formatFieldError), [
    'spec.volumes[0].configMap: Unsupported value: "configMap": supported values: "emptyDir", "hostPath"',
    `${VALUE_FROM}.secretKeyRef: Unsupported value: "secretKeyRef": supported values: "fieldRef"`,
  ]);
  assert.equal(warnings, []);
});

const FORMAT_CASES: [string, FieldError, string][] = [
  ['Forbidden prints no value', { field: 'spec.x', type: 'Forbidden', value: 'v', detail: 'no' }, 'spec.x: Forbidden: no'],
  ['Not found prints the value', { field: 'spec.x', type: 'Not found', value: 'data' }, 'spec.x: Not found: "data"'],
  ['Too long prints no value', { field: 'spec.x', type: 'Too long', value: 'vvv', detail: 'must have at most 2 bytes' }, 'spec.x: Too long: must have at most 2 bytes'],
  ['Too many prints the count', { field: 'spec.x', type: 'Too many', value: 3, detail: 'must have at most 2 items' }, 'spec.x: Too many: 3: must have at most 2 items'],
  ['Too many without a count', { field: 'spec.x', type: 'Too many', detail: 'has too many items' }, 'spec.x: Too many: has too many items'],
  ['Required value with a detail', { field: 'spec.x', type: 'Required value', detail: 'must specify a volume type' }, 'spec.x: Required value: must specify a volume type'],
];

for (const [name, error, expected] of FORMAT_CASES) {
  test(`formatFieldError: ${name}`, () => {
    assert.is(formatFieldError(error), expected);
  });
}

test('parsePod: the pod using every honoured field comes back as it went in', () => {
  const manifest = fullPod();
  const { pod: parsed, warnings } = parsePod(structuredClone(manifest));
  assert.equal(parsed, manifest);
  assert.equal(warnings, FULL_POD_WARNINGS);
  assert.equal(parsed.spec.containers[0]!.env![1]!.valueFrom!.fieldRef.fieldPath, 'metadata.name');
});

test('parsePod: throws one ValidationError listing every error, one per line', () => {
  const manifest = pod((m) => {
    m.kind = 'Job';
    m.spec.containers.push({ name: 'app', image: 'busybox' });
  });
  try {
    parsePod(manifest);
    assert.unreachable('parsePod accepted an invalid pod');
  } catch (err) {
    assert.instance(err, ValidationError);
    assert.instance(err, MinipodError);
    assert.is((err as ValidationError).exitCode, 125);
    assert.is((err as ValidationError).errors.length, 2);
    assert.is((err as Error).message, [
      'kind: Unsupported value: "Job": supported values: "Pod"',
      'spec.containers[1].name: Duplicate value: "app"',
    ].join('\n'));
  }
});

test('parsePod: returns the pod without nulls, and the warnings', () => {
  const { pod: parsed, warnings } = parsePod(pod((m) => {
    m.spec.hostname = null;
    m.spec.containers[0].args = null;
    m.spec.containers[0].env = [{ name: 'A', value: null }];
    m.spec.dnsPolicy = 'None';
  }));
  assert.equal(parsed.spec, { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'A' }] }], dnsPolicy: 'None' });
  assert.equal(warnings, ['spec.dnsPolicy is not supported by minipod and is ignored']);
});

test.run();
