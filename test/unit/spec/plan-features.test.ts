import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerSpec, FieldPath, PodManifest, VolumeSpec } from '../../../lib/spec/manifest.ts';
import { planPod } from '../../../lib/spec/plan.ts';
import type { MountPlan, UserPlan, VolumePlan } from '../../../lib/spec/plan-types.ts';
import { minipodError } from '../../helpers/assert.ts';

// Init containers, volumes, mounts, securityContext, the downward API and
// the host namespaces, through planPod. <tmp>/images is the image store.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-plan-features-'));
const imagesDir = join(tmp, 'images');
const manifestDir = join(tmp, 'pods');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function image(name: string, config: Record<string, unknown>, etc: Record<string, string> = {}): void {
  const rootfs = join(imagesDir, name, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(imagesDir, name, 'config.json'), JSON.stringify({ config }));
  for (const [file, text] of Object.entries(etc)) writeFileSync(join(rootfs, 'etc', file), text);
}
const ETC = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n',
  group: 'root:x:0:\nwheel:x:10:root\napp:x:1001:\nstaff:x:20:app\n',
};
image('busybox', { Cmd: ['sh'] }, ETC);
image('numeric', { Cmd: ['sh'], User: '1000:1000' }, ETC);
image('named', { Cmd: ['sh'], User: 'app' }, ETC);
image('named-group', { Cmd: ['sh'], User: 'app:wheel' }, ETC);
image('ghost', { Cmd: ['sh'], User: 'ghost' }, ETC);
mkdirSync(manifestDir, { recursive: true });

type Spec = Partial<PodManifest['spec']>;

function pod(containers: Partial<ContainerSpec>[], spec: Spec = {}, metadata: Partial<PodManifest['metadata']> = {}): PodManifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', ...metadata },
    spec: { ...spec, containers: containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', ...c })) },
  };
}

const node = { name: 'node-1', ip: '192.0.2.10' };
const UID = '0b4c3a8e-6f1d-4c1e-9a57-3d2f6e8b9c01';
const plan = (p: PodManifest) => planPod(p, { manifestDir, imagesDir, uid: UID, node, store: null });
const container = (c: Partial<ContainerSpec>, spec: Spec = {}) => plan(pod([c], spec)).containers[0]!;

const planError = (p: PodManifest): string => minipodError(() => plan(p));

// Init containers

test('initContainers: planned in order, restartPolicy Always makes a sidecar', () => {
  const p = plan(pod([{}], {
    initContainers: [
      { name: 'first', image: 'busybox', command: ['true'] },
      { name: 'side', image: 'busybox', restartPolicy: 'Always' },
      { name: 'last', image: 'numeric', args: ['-c', 'exit 0'] },
    ],
  }));
  assert.equal(p.initContainers.map((c) => [c.name, c.sidecar, c.argv]), [
    ['first', false, ['true']],
    ['side', true, ['sh']],
    ['last', false, ['-c', 'exit 0']],
  ]);
  assert.equal(p.initContainers[2]!.user, { uid: 1000, gid: 1000, groups: [1000, 20] });
  assert.equal(p.containers.map((c) => [c.name, c.sidecar]), [['c0', false]]);
});

test('initContainers: errors name spec.initContainers[i]', () => {
  const p = pod([{}], { initContainers: [{ name: 'ok', image: 'busybox' }, { name: 'bad', image: 'nope' }] });
  assert.is(
    planError(p),
    `spec.initContainers[1].image: image "nope" is not in the image store ${imagesDir} (minipod pull nope; the busybox image: make)`,
  );
});

// Volumes

const VOLUME_CASES: [string, VolumeSpec, VolumePlan][] = [
  ['emptyDir {}', { name: 'v', emptyDir: {} }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['emptyDir medium ""', { name: 'v', emptyDir: { medium: '' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['emptyDir medium Memory', { name: 'v', emptyDir: { medium: 'Memory' } }, { name: 'v', kind: 'emptyDir', medium: 'memory', sizeLimitBytes: null }],
  ['sizeLimit 1Mi', { name: 'v', emptyDir: { sizeLimit: '1Mi' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: 1048576n }],
  ['sizeLimit 64M, Memory', { name: 'v', emptyDir: { medium: 'Memory', sizeLimit: '64M' } }, { name: 'v', kind: 'emptyDir', medium: 'memory', sizeLimitBytes: 64000000n }],
  ['sizeLimit as a number', { name: 'v', emptyDir: { sizeLimit: 4096 } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: 4096n }],
  ['sizeLimit 500m rounds up to a byte', { name: 'v', emptyDir: { sizeLimit: '500m' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: 1n }],
  ['sizeLimit "0": no limit', { name: 'v', emptyDir: { sizeLimit: '0' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['sizeLimit 0: no limit', { name: 'v', emptyDir: { sizeLimit: 0 } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['sizeLimit 8Ei (capped at 2^63-1)', { name: 'v', emptyDir: { sizeLimit: '8Ei' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: 2n ** 63n - 1n }],
  ['sizeLimit 1e19: no limit', { name: 'v', emptyDir: { sizeLimit: '1e19' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['sizeLimit 1e400: no limit', { name: 'v', emptyDir: { sizeLimit: '1e400' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['sizeLimit 1e2000000000: no limit', { name: 'v', emptyDir: { sizeLimit: '1e2000000000' } }, { name: 'v', kind: 'emptyDir', medium: 'disk', sizeLimitBytes: null }],
  ['hostPath, no type', { name: 'h', hostPath: { path: '/data' } }, { name: 'h', kind: 'hostPath', path: '/data', type: '' }],
  ['hostPath, type ""', { name: 'h', hostPath: { path: '/data', type: '' } }, { name: 'h', kind: 'hostPath', path: '/data', type: '' }],
  ['hostPath, type Directory', { name: 'h', hostPath: { path: '/data', type: 'Directory' } }, { name: 'h', kind: 'hostPath', path: '/data', type: 'Directory' }],
  ['hostPath, type FileOrCreate', { name: 'h', hostPath: { path: '/f', type: 'FileOrCreate' } }, { name: 'h', kind: 'hostPath', path: '/f', type: 'FileOrCreate' }],
];
for (const [name, volume, expected] of VOLUME_CASES) {
  test(`volume: ${name}`, () => {
    assert.equal(plan(pod([{}], { volumes: [volume] })).volumes, [expected]);
  });
}

test('volumes: kept in order', () => {
  const volumes: VolumeSpec[] = [{ name: 'b', emptyDir: {} }, { name: 'a', hostPath: { path: '/a' } }];
  assert.equal(plan(pod([{}], { volumes })).volumes.map((v) => v.name), ['b', 'a']);
});

// Volume mounts

const MOUNT_CASES: [string, Partial<ContainerSpec>['volumeMounts'] & object, MountPlan[]][] = [
  ['defaults', [{ name: 'v', mountPath: '/data' }], [{ volume: 'v', target: '/data', subPath: '', readOnly: false }]],
  ['readOnly', [{ name: 'v', mountPath: '/data', readOnly: true }], [{ volume: 'v', target: '/data', subPath: '', readOnly: true }]],
  ['readOnly false', [{ name: 'v', mountPath: '/data', readOnly: false }], [{ volume: 'v', target: '/data', subPath: '', readOnly: false }]],
  ['subPath normalized', [{ name: 'v', mountPath: '/data', subPath: './a//b/' }], [{ volume: 'v', target: '/data', subPath: 'a/b', readOnly: false }]],
  ['subPath "."', [{ name: 'v', mountPath: '/data', subPath: '.' }], [{ volume: 'v', target: '/data', subPath: '', readOnly: false }]],
  ['subPath ""', [{ name: 'v', mountPath: '/data', subPath: '' }], [{ volume: 'v', target: '/data', subPath: '', readOnly: false }]],
  ['subPath a/./b', [{ name: 'v', mountPath: '/data', subPath: 'a/./b' }], [{ volume: 'v', target: '/data', subPath: 'a/b', readOnly: false }]],
  [
    'several, in order',
    [{ name: 'v', mountPath: '/b' }, { name: 'v', mountPath: '/a', subPath: 'x', readOnly: true }],
    [{ volume: 'v', target: '/b', subPath: '', readOnly: false }, { volume: 'v', target: '/a', subPath: 'x', readOnly: true }],
  ],
];
for (const [name, volumeMounts, expected] of MOUNT_CASES) {
  test(`volumeMounts: ${name}`, () => {
    assert.equal(container({ volumeMounts }, { volumes: [{ name: 'v', emptyDir: {} }] }).mounts, expected);
  });
}

test('volumeMounts: init containers have theirs too', () => {
  const p = plan(pod([{}], {
    volumes: [{ name: 'v', emptyDir: {} }],
    initContainers: [{ name: 'i0', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/init', subPath: 'i/' }] }],
  }));
  assert.equal(p.initContainers[0]!.mounts, [{ volume: 'v', target: '/init', subPath: 'i', readOnly: false }]);
  assert.equal(p.containers[0]!.mounts, []);
});

// securityContext: the container's wins over the pod's, field by field.

type SC = NonNullable<ContainerSpec['securityContext']>;
type PodSC = NonNullable<PodManifest['spec']['securityContext']>;
const USER_CASES: [string, string, PodSC | undefined, SC | undefined, UserPlan][] = [
  ['root by default, with root\'s groups', 'busybox', undefined, undefined, { uid: 0, gid: 0, groups: [0, 10] }],
  ['pod runAsUser: gid from the image passwd', 'busybox', { runAsUser: 1000 }, undefined, { uid: 1000, gid: 1001, groups: [1001, 20] }],
  ['pod runAsUser not in passwd: gid 0', 'busybox', { runAsUser: 4242 }, undefined, { uid: 4242, gid: 0, groups: [0] }],
  ['container runAsUser wins', 'busybox', { runAsUser: 1000 }, { runAsUser: 2000 }, { uid: 2000, gid: 0, groups: [0] }],
  ['pod runAsGroup with container runAsUser', 'busybox', { runAsGroup: 5 }, { runAsUser: 7 }, { uid: 7, gid: 5, groups: [5] }],
  ['container runAsGroup wins', 'busybox', { runAsUser: 7, runAsGroup: 5 }, { runAsGroup: 6 }, { uid: 7, gid: 6, groups: [6] }],
  ['pod supplementalGroups last', 'busybox', { runAsUser: 1000, supplementalGroups: [30, 20, 31] }, undefined, { uid: 1000, gid: 1001, groups: [1001, 20, 30, 31] }],
  ['image User "1000:1000"', 'numeric', undefined, undefined, { uid: 1000, gid: 1000, groups: [1000, 20] }],
  ['image User "app" through the image passwd', 'named', undefined, undefined, { uid: 1000, gid: 1001, groups: [1001, 20] }],
  ['image User "app:wheel"', 'named-group', undefined, undefined, { uid: 1000, gid: 10, groups: [10, 20] }],
  ['runAsUser wins over the image User', 'named', undefined, { runAsUser: 3 }, { uid: 3, gid: 0, groups: [0] }],
  ['runAsGroup over the image User', 'named', { runAsGroup: 4 }, undefined, { uid: 1000, gid: 4, groups: [4, 20] }],
  ['runAsUser over an unknown image User', 'ghost', { runAsUser: 1000 }, undefined, { uid: 1000, gid: 1001, groups: [1001, 20] }],
];
for (const [name, img, podSC, own, expected] of USER_CASES) {
  test(`user: ${name}`, () => {
    const spec: Spec = podSC ? { securityContext: podSC } : {};
    assert.equal(container({ image: img, securityContext: own }, spec).user, expected);
  });
}

test('user: an unknown image User is an error naming the container', () => {
  assert.is(planError(pod([{ image: 'ghost' }])), 'spec.containers[0]: image user "ghost": no such user in the image\'s /etc/passwd');
  assert.is(
    planError(pod([{}], { initContainers: [{ name: 'i0', image: 'ghost' }] })),
    'spec.initContainers[0]: image user "ghost": no such user in the image\'s /etc/passwd',
  );
});

// runAsNonRoot: [name, image, pod securityContext, container securityContext, error or null]
const NON_ROOT_CASES: [string, string, PodSC | undefined, SC | undefined, string | null][] = [
  ['pod: root image', 'busybox', { runAsNonRoot: true }, undefined, 'spec.containers[0]: container has runAsNonRoot and image will run as root (pod: "web", container: c0)'],
  ['container: root image', 'busybox', undefined, { runAsNonRoot: true }, 'spec.containers[0]: container has runAsNonRoot and image will run as root (pod: "web", container: c0)'],
  ['runAsUser 0', 'numeric', undefined, { runAsNonRoot: true, runAsUser: 0 }, 'spec.containers[0]: container\'s runAsUser breaks non-root policy (pod: "web", container: c0)'],
  ['pod runAsUser 0', 'numeric', { runAsNonRoot: true, runAsUser: 0 }, undefined, 'spec.containers[0]: container\'s runAsUser breaks non-root policy (pod: "web", container: c0)'],
  [
    'named image User',
    'named',
    { runAsNonRoot: true },
    undefined,
    'spec.containers[0]: container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "web", container: c0)',
  ],
  ['numeric image User', 'numeric', { runAsNonRoot: true }, undefined, null],
  ['runAsUser 1000 on a root image', 'busybox', { runAsNonRoot: true, runAsUser: 1000 }, undefined, null],
  ['runAsUser makes a named image User fine', 'named', { runAsNonRoot: true }, { runAsUser: 1000 }, null],
  ['container runAsNonRoot false wins over the pod\'s true', 'busybox', { runAsNonRoot: true }, { runAsNonRoot: false }, null],
  ['pod runAsNonRoot false', 'busybox', { runAsNonRoot: false }, undefined, null],
];
for (const [name, img, podSC, own, message] of NON_ROOT_CASES) {
  test(`runAsNonRoot: ${name}: ${message === null ? 'allowed' : 'refused'}`, () => {
    const p = pod([{ image: img, securityContext: own }], podSC ? { securityContext: podSC } : {});
    if (message === null) assert.is(plan(p).containers.length, 1);
    else assert.is(planError(p), message);
  });
}

test('runAsNonRoot: init containers are checked, by their own path and name', () => {
  const p = pod([{ image: 'numeric' }], {
    securityContext: { runAsNonRoot: true },
    initContainers: [{ name: 'i0', image: 'numeric' }, { name: 'setup', image: 'busybox' }],
  });
  assert.is(planError(p), 'spec.initContainers[1]: container has runAsNonRoot and image will run as root (pod: "web", container: setup)');
  const first = pod([{ image: 'numeric' }], { initContainers: [{ name: 'setup', image: 'busybox', securityContext: { runAsNonRoot: true, runAsUser: 0 } }] });
  assert.is(planError(first), 'spec.initContainers[0]: container\'s runAsUser breaks non-root policy (pod: "web", container: setup)');
});

test('runAsNonRoot: the second container is named in the message', () => {
  const p = pod([{ image: 'numeric' }, { image: 'named' }], { securityContext: { runAsNonRoot: true } }, { name: 'db' });
  assert.is(
    planError(p),
    'spec.containers[1]: container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "db", container: c1)',
  );
});

test('readOnlyRootFilesystem: the container\'s, false by default', () => {
  assert.is(container({}).readOnlyRootFilesystem, false);
  assert.is(container({ securityContext: { readOnlyRootFilesystem: true } }).readOnlyRootFilesystem, true);
  assert.is(container({ securityContext: { readOnlyRootFilesystem: false } }).readOnlyRootFilesystem, false);
  assert.is(container({ securityContext: { runAsUser: 1 } }).readOnlyRootFilesystem, false);
});

// The downward API: valueFrom.fieldRef

const fieldRef = (name: string, fieldPath: FieldPath) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const labelled = { labels: { app: 'web', 'example.com/tier': 'front', dollar: '$(FIRST)' }, annotations: { note: 'hello world' } };

// [fieldPath, pod spec, metadata, value]
const FIELD_CASES: [FieldPath, Spec, Partial<PodManifest['metadata']>, string][] = [
  ['metadata.name', {}, {}, 'web'],
  ['metadata.namespace', {}, {}, 'default'],
  ['metadata.namespace', {}, { namespace: '' }, 'default'],
  ['metadata.namespace', {}, { namespace: 'prod' }, 'prod'],
  ['metadata.uid', {}, { uid: 'not-this-one' }, UID],
  ['spec.nodeName', {}, {}, 'node-1'],
  ['spec.nodeName', { nodeName: 'elsewhere' }, {}, 'node-1'],
  ['spec.serviceAccountName', {}, {}, 'default'],
  ['spec.serviceAccountName', { serviceAccountName: 'robot' }, {}, 'robot'],
  ['status.hostIP', {}, {}, '192.0.2.10'],
  ['status.hostIPs', {}, {}, '192.0.2.10'],
  ['status.podIP', {}, {}, ''],
  ['status.podIPs', {}, {}, ''],
  ['status.podIP', { hostNetwork: true }, {}, '192.0.2.10'],
  ['status.podIPs', { hostNetwork: true }, {}, '192.0.2.10'],
  ['status.hostIP', { hostNetwork: true }, {}, '192.0.2.10'],
  ["metadata.labels['app']", {}, labelled, 'web'],
  ["metadata.labels['example.com/tier']", {}, labelled, 'front'],
  ["metadata.labels['missing']", {}, labelled, ''],
  ["metadata.labels['app']", {}, {}, ''],
  ["metadata.annotations['note']", {}, labelled, 'hello world'],
  ["metadata.annotations['missing']", {}, labelled, ''],
  ["metadata.annotations['app']", {}, labelled, ''],
  ["metadata.annotations['note']", {}, {}, ''],
];
for (const [fieldPath, spec, metadata, value] of FIELD_CASES) {
  const given = [...Object.keys(spec), ...Object.keys(metadata).filter((k) => k !== 'labels' && k !== 'annotations').map((k) => `${k}=${JSON.stringify(metadata[k as keyof typeof metadata])}`)];
  test(`fieldRef ${fieldPath}${given.length ? ` (${given.join(', ')})` : ''} -> ${JSON.stringify(value)}`, () => {
    const p = plan(pod([{ env: [fieldRef('F', fieldPath)] }], spec, metadata));
    assert.is(p.containers[0]!.env.F, value);
  });
}

// Own keys only: `constructor`, `toString`, `hasOwnProperty` are valid label
// keys, and a missing one is "", not an inherited Object member.
test('fieldRef: a missing label or annotation named like an Object.prototype member is ""', () => {
  for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
    for (const base of ['labels', 'annotations']) {
      const fieldPath = `metadata.${base}['${key}']` as FieldPath;
      const c = plan(pod([{ env: [fieldRef('F', fieldPath)], command: ['echo', '$(F)'] }], {}, labelled)).containers[0]!;
      assert.is(c.env.F, '', fieldPath);
      assert.equal(c.argv, ['echo', ''], fieldPath);
    }
  }
});

test('fieldRef: init containers get the same values', () => {
  const p = plan(pod([{}], { initContainers: [{ name: 'i0', image: 'busybox', env: [fieldRef('POD', 'metadata.name'), fieldRef('NODE', 'spec.nodeName')] }] }));
  assert.equal([p.initContainers[0]!.env.POD, p.initContainers[0]!.env.NODE], ['web', 'node-1']);
});

test('fieldRef: usable by later $(VAR) references in env, command and args', () => {
  const c = plan(pod([{
    env: [
      { name: 'EARLY', value: '$(POD)' },
      fieldRef('POD', 'metadata.name'),
      fieldRef('NS', 'metadata.namespace'),
      { name: 'FQDN', value: '$(POD).$(NS).svc' },
    ],
    command: ['echo', '$(POD)'],
    args: ['$(FQDN)', '$$(POD)'],
  }], {}, { namespace: 'prod' })).containers[0]!;
  assert.equal(c.env.EARLY, '$(POD)');
  assert.equal(c.env.FQDN, 'web.prod.svc');
  assert.equal(c.argv, ['echo', 'web', 'web.prod.svc', '$(POD)']);
});

test('fieldRef: a value that reads $(X) is not expanded', () => {
  const c = plan(pod([{ env: [{ name: 'FIRST', value: 'one' }, fieldRef('RAW', "metadata.labels['dollar']")], args: ['$(RAW)'] }], {}, labelled))
    .containers[0]!;
  assert.is(c.env.RAW, '$(FIRST)');
  assert.equal(c.argv, ['$(FIRST)']);
});

// The host's namespaces

test('hostNetwork: the hostname and HOSTNAME are the node\'s, even with spec.hostname', () => {
  for (const spec of [{ hostNetwork: true }, { hostNetwork: true, hostname: 'box' }]) {
    const p = plan(pod([{}], spec));
    assert.is(p.hostname, 'node-1');
    assert.is(p.containers[0]!.env.HOSTNAME, 'node-1');
    assert.equal(p.host, { network: true, ipc: false, pid: false });
  }
});

test('hostNetwork false: the pod\'s own hostname', () => {
  const p = plan(pod([{}], { hostNetwork: false, hostname: 'box' }));
  assert.is(p.hostname, 'box');
  assert.is(p.containers[0]!.env.HOSTNAME, 'box');
});

const HOST_CASES: [Spec, { network: boolean; ipc: boolean; pid: boolean }][] = [
  [{}, { network: false, ipc: false, pid: false }],
  [{ hostIPC: true }, { network: false, ipc: true, pid: false }],
  [{ hostPID: true }, { network: false, ipc: false, pid: true }],
  [{ hostNetwork: true, hostIPC: true, hostPID: true }, { network: true, ipc: true, pid: true }],
  [{ hostNetwork: false, hostIPC: false, hostPID: false }, { network: false, ipc: false, pid: false }],
];
for (const [spec, host] of HOST_CASES) {
  test(`host namespaces: ${JSON.stringify(spec)}`, () => {
    const p = plan(pod([{}], spec));
    assert.equal(p.host, host);
    if (!host.network) assert.is(p.hostname, 'web');
  });
}

test('activeDeadlineSeconds: carried, null when unset', () => {
  assert.is(plan(pod([{}], { activeDeadlineSeconds: 60 })).activeDeadlineSeconds, 60);
  assert.is(plan(pod([{}])).activeDeadlineSeconds, null);
});

test.run();
