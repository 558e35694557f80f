import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { formatFieldError, parsePod, validatePod, ValidationError } from '../../../lib/spec/validate.ts';

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
  ['init containers', pod((m) => (m.spec.initContainers = [{ name: 'init', image: 'busybox' }])), [
    'spec.initContainers is not supported by minipod and is ignored',
  ]],
  ['valueFrom', pod((m) => (m.spec.containers[0].env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }])), [
    'spec.containers[0].env[0].valueFrom is not supported by minipod and is ignored',
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
    Object.assign(m.spec, { imagePullSecrets: [{ name: 'reg' }], enableServiceLinks: true });
    Object.assign(m.spec.containers[0], { ports: [{ containerPort: 80 }], imagePullPolicy: 'Always' });
    m.status = { phase: 'Running' };
  }), []],
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
