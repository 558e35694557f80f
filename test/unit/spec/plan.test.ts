import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandVars, planPod } from '../../../lib/spec/plan.ts';
import type { ContainerSpec, PodManifest } from '../../../lib/spec/manifest.ts';
import { minipodError } from '../../helpers/assert.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// <tmp>/images is the image store; <tmp>/pods holds the manifest and a rootfs
// directory that path images name.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-plan-'));
const imagesDir = join(tmp, 'images');
const manifestDir = join(tmp, 'pods');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function image(name: string, config?: unknown): void {
  mkdirSync(join(imagesDir, name, 'rootfs'), { recursive: true });
  if (config !== undefined) {
    writeFileSync(join(imagesDir, name, 'config.json'), typeof config === 'string' ? config : JSON.stringify({ config }));
  }
}
image('busybox', { Cmd: ['sh'], Env: [`PATH=${DEFAULT_PATH}`] });
image('app', { Entrypoint: ['/entry'], Cmd: ['serve'], Env: ['A=image', 'PATH=/app/bin', 'FLAG'], WorkingDir: '/srv' });
image('bare');
image('fdcwd', { Cmd: ['sh'], WorkingDir: '/proc/self/fd/../fd/7' });
image('quits', { Cmd: ['sh'], StopSignal: 'SIGQUIT' });
image('badstop', { Cmd: ['sh'], StopSignal: 'SIGNOPE' });
image('withvol', { Cmd: ['sh'], Volumes: { '/data': {}, '/var/cache/': {}, '/data/': {} } });
image('relvol', { Cmd: ['sh'], Volumes: { 'data': {} } });
image('tagged:1.0', { Entrypoint: null, Cmd: ['run'], Env: null });
image('lib/nested', { Cmd: ['x'] });
image('broken', '{"config": ');
image('wrongtype', { Cmd: 'sh' });
mkdirSync(join(manifestDir, 'rootfs'), { recursive: true });
writeFileSync(join(manifestDir, 'file'), '');

function pod(containers: Partial<ContainerSpec>[], spec: Partial<PodManifest['spec']> = {}, name = 'web'): PodManifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { ...spec, containers: containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', ...c })) },
  };
}

const node = { name: 'node-1', ip: '192.0.2.10' };
const UID = '0b4c3a8e-6f1d-4c1e-9a57-3d2f6e8b9c01';
const REDIS = { layers: ['/s/base/fs', '/s/top/fs'], config: { Cmd: ['redis-server'], User: '999' }, manifestDigest: `sha256:${'7'.repeat(64)}` };
/** The store's images, as planning reads them: by canonical name. */
const store = { lookup: (name: string) => (name === 'docker.io/library/redis:7' ? REDIS : null) };
const plan = (p: PodManifest) => planPod(p, { manifestDir, imagesDir, uid: UID, node, store });
const container = (c: Partial<ContainerSpec>) => plan(pod([c])).containers[0]!;

const planError = (p: PodManifest): string => minipodError(() => plan(p));

test('pod defaults', () => {
  const p = plan(pod([{}]));
  assert.equal({ ...p, containers: undefined }, {
    name: 'web',
    namespace: 'default',
    uid: UID,
    node,
    podIP: '',
    hostname: 'web',
    sharePid: false,
    host: { network: false, ipc: false, pid: false },
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    activeDeadlineSeconds: null,
    volumes: [],
    initContainers: [],
    containers: undefined,
  });
  assert.equal(p.containers, [{
    name: 'c0',
    image: 'busybox',
    imageID: '',
    layers: [join(imagesDir, 'busybox', 'rootfs')],
    argv: ['sh'],
    env: { PATH: DEFAULT_PATH, HOSTNAME: 'web' },
    workingDir: '/',
    user: { uid: 0, gid: 0, groups: [0] },
    readOnlyRootFilesystem: false,
    mounts: [],
    resources: { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: null },
    security: { capabilities: 0xa80425fbn, noNewPrivs: true, privileged: false, seccomp: true },
    sidecar: false,
    stopSignal: 15,
  }]);
});

test('pod fields given', () => {
  const p = plan({
    ...pod([{}], { hostname: 'box', shareProcessNamespace: true, restartPolicy: 'Never', terminationGracePeriodSeconds: 0 }),
    metadata: { name: 'web', namespace: 'prod' },
  });
  assert.equal([p.namespace, p.hostname, p.sharePid, p.restartPolicy, p.terminationGracePeriodSeconds], ['prod', 'box', true, 'Never', 0]);
  assert.is(p.containers[0]!.env.HOSTNAME, 'box');
});

const HOSTNAME_CASES: [string, string][] = [
  ['a'.repeat(63), 'a'.repeat(63)],
  ['a'.repeat(64), 'a'.repeat(63)],
  [`${'a'.repeat(61)}.-b.c`, 'a'.repeat(61)],
  [`${'a'.repeat(62)}-x`, 'a'.repeat(62)],
];
for (const [name, hostname] of HOSTNAME_CASES) {
  test(`hostname from a ${name.length}-character pod name`, () => {
    assert.is(plan(pod([{}], {}, name)).hostname, hostname);
  });
}

const ARGV_CASES: [string, Partial<ContainerSpec>, string[]][] = [
  ['neither: Entrypoint + Cmd', { image: 'app' }, ['/entry', 'serve']],
  ['command: replaces both', { image: 'app', command: ['/bin/sh'] }, ['/bin/sh']],
  ['command and args', { image: 'app', command: ['/bin/sh'], args: ['-c', 'true'] }, ['/bin/sh', '-c', 'true']],
  ['args: Entrypoint + args', { image: 'app', args: ['--debug'] }, ['/entry', '--debug']],
  ['empty command counts as none', { image: 'app', command: [], args: ['--debug'] }, ['/entry', '--debug']],
  ['empty args counts as none', { image: 'app', args: [] }, ['/entry', 'serve']],
  ['image with Cmd only', { image: 'busybox' }, ['sh']],
  ['image with Cmd only, args given', { image: 'busybox', args: ['echo', 'hi'] }, ['echo', 'hi']],
  ['path image: command needed', { image: './rootfs', command: ['/init'] }, ['/init']],
];
for (const [name, c, argv] of ARGV_CASES) {
  test(`argv: ${name}`, () => {
    assert.equal(container(c).argv, argv);
  });
}

test('argv: no command anywhere is an error', () => {
  assert.is(planError(pod([{}, { image: 'bare' }])), 'spec.containers[1].command: Required value: image "bare" has no default command');
  assert.is(planError(pod([{ image: '/', args: [] }])), 'spec.containers[0].command: Required value: image "/" has no default command');
});

test('env: defaults, then the image Env, then the container env; later wins', () => {
  assert.equal(Object.entries(container({ image: 'app', env: [{ name: 'B', value: '2' }, { name: 'A', value: 'pod' }] }).env), [
    ['PATH', '/app/bin'],
    ['HOSTNAME', 'web'],
    ['A', 'pod'],
    ['FLAG', ''],
    ['B', '2'],
  ]);
});

test('env: PATH defaults only when nobody sets it; the pod can set HOSTNAME', () => {
  assert.equal(container({ image: 'bare', command: ['x'] }).env, { PATH: DEFAULT_PATH, HOSTNAME: 'web' });
  assert.equal(container({ image: 'bare', command: ['x'], env: [{ name: 'PATH', value: '/opt' }, { name: 'HOSTNAME', value: 'h' }] }).env, {
    PATH: '/opt',
    HOSTNAME: 'h',
  });
});

test('env: a variable without value (valueFrom is ignored) is empty', () => {
  assert.is(container({ env: [{ name: 'E' }] }).env.E, '');
});

test('env: odd names are kept as names', () => {
  assert.equal(Object.keys(container({ env: [{ name: '__proto__', value: 'x' }] }).env), ['PATH', 'HOSTNAME', '__proto__']);
});

const EXPAND_CASES: [string, string][] = [
  ['', ''],
  ['plain', 'plain'],
  ['$(A)', 'a'],
  ['x$(A)y$(A)z', 'xayaz'],
  ['$(UNDEFINED)', '$(UNDEFINED)'],
  ['$(EMPTY)', ''],
  ['$()', '$()'],
  ['$$(A)', '$(A)'],
  ['$$$(A)', '$a'],
  ['$$', '$'],
  ['$$$', '$$'],
  ['$', '$'],
  ['a$', 'a$'],
  ['$A', '$A'],
  ['${A}', '${A}'],
  ['$(A', '$(A'],
  ['$(A$(A)', '$(A$(A)'],
  ['$($(A))', '$($(A))'],
  ['$(A)$', 'a$'],
  ['€$(A)€', '€a€'],
];
for (const [input, output] of EXPAND_CASES) {
  test(`expandVars: ${JSON.stringify(input)} -> ${JSON.stringify(output)}`, () => {
    const vars: Record<string, string> = { A: 'a', EMPTY: '' };
    assert.is(expandVars(input, (name) => vars[name]), output);
  });
}

test('expansion: env values see earlier variables only, command and args see all', () => {
  const c = container({
    image: 'app',
    env: [
      { name: 'X', value: 'x' },
      { name: 'Y', value: '$(X)-$(Z)-$(PATH)-$(HOSTNAME)' },
      { name: 'Z', value: 'z' },
      { name: 'X', value: '$(X)$(X)' },
    ],
    command: ['echo', '$(X)', '$(Y)'],
    args: ['$(Z)', '$$(Z)', '$(PATH)'],
  });
  assert.equal(c.argv, ['echo', 'xx', 'x-$(Z)-$(PATH)-$(HOSTNAME)', 'z', '$(Z)', '$(PATH)']);
  assert.is(c.env.X, 'xx');
  assert.is(c.env.Y, 'x-$(Z)-$(PATH)-$(HOSTNAME)');
});

test('expansion: the image Entrypoint and Cmd are not expanded', () => {
  image('dollar', { Entrypoint: ['echo', '$(A)'] });
  assert.equal(container({ image: 'dollar', env: [{ name: 'A', value: 'a' }] }).argv, ['echo', '$(A)']);
});

test('workingDir: the container, else the image, else /', () => {
  assert.is(container({ image: 'app', workingDir: '/tmp' }).workingDir, '/tmp');
  assert.is(container({ image: 'app' }).workingDir, '/srv');
  assert.is(container({ image: 'app', workingDir: '' }).workingDir, '/srv');
  assert.is(container({ image: 'busybox' }).workingDir, '/');
});

// The manifest's workingDir is validated before any image is read: the image's own, only here (CVE-2024-21626).
test("the image's StopSignal stops the container instead of SIGTERM, as containerd's CRI does", () => {
  assert.is(container({ image: 'quits' }).stopSignal, 3);
  assert.is(container({ image: 'busybox', command: ['x'] }).stopSignal, 15);
  assert.is(planError(pod([{ name: 'c', image: 'badstop' }])), 'spec.containers[0].image: image "badstop": config StopSignal "SIGNOPE" is not a signal');
});

test("the image's Volumes are anonymous emptyDirs of the container, as CRI-O makes them, except where the pod mounts a volume", () => {
  const p = plan(pod([
    { name: 'a', image: 'withvol' },
    { name: 'b', image: 'withvol', volumeMounts: [{ name: 'mine', mountPath: '/data/' }] },
  ], { volumes: [{ name: 'mine', emptyDir: {} }] }));
  assert.equal(p.containers[0]!.mounts, [
    { volume: 'a.image-volume.0', target: '/data', subPath: '', readOnly: false },
    { volume: 'a.image-volume.1', target: '/var/cache', subPath: '', readOnly: false },
  ]);
  assert.equal(p.containers[1]!.mounts.map((m) => [m.volume, m.target]), [['mine', '/data/'], ['b.image-volume.1', '/var/cache']]);
  assert.equal(p.volumes.map((v) => v.name), ['mine', 'a.image-volume.0', 'a.image-volume.1', 'b.image-volume.1']);
  assert.ok(p.volumes.every((v) => v.kind === 'emptyDir' && v.medium === 'disk' && v.sizeLimitBytes === null));
  assert.is(planError(pod([{ name: 'c', image: 'relvol' }])), 'spec.containers[0].image: image "relvol": config Volumes "data" must be an absolute path');
});

test("the image's WorkingDir under /proc/PID/fd is refused, unless the container sets its own", () => {
  assert.is(planError(pod([{ name: 'c', image: 'fdcwd' }])), 'image "fdcwd": config WorkingDir "/proc/self/fd/../fd/7" must not be under a /proc/PID/fd directory');
  assert.is(container({ image: 'fdcwd', workingDir: '/srv' }).workingDir, '/srv');
});

const IMAGE_CASES: [string, string][] = [
  ['busybox', join(imagesDir, 'busybox', 'rootfs')],
  ['busybox:latest', join(imagesDir, 'busybox', 'rootfs')],
  ['tagged:1.0', join(imagesDir, 'tagged:1.0', 'rootfs')],
  ['lib/nested', join(imagesDir, 'lib', 'nested', 'rootfs')],
  ['./rootfs', join(manifestDir, 'rootfs')],
  ['../pods/rootfs', join(manifestDir, 'rootfs')],
  [join(manifestDir, 'rootfs/'), join(manifestDir, 'rootfs')],
];
for (const [name, rootfs] of IMAGE_CASES) {
  test(`image: ${name}`, () => {
    assert.equal(container({ image: name, command: ['x'] }).layers, [rootfs]);
  });
}

test("image: a pulled image's layers and config come from the store, by canonical name, with the CRI's imageID", () => {
  const c = container({ image: 'docker.io/library/redis:7' });
  assert.equal([c.layers, c.argv, c.user.uid, c.imageID], [REDIS.layers, ['redis-server'], 999, `docker.io/library/redis@${REDIS.manifestDigest}`]);
  assert.equal(container({ image: 'redis:7' }).layers, REDIS.layers);
});

test('image: a reference the store does not have, and one that is no reference, each in one line', () => {
  assert.is(planError(pod([{ name: 'c', image: 'redis:8' }])), `spec.containers[0].image: image "redis:8" is not in the image store ${imagesDir} (minipod pull redis:8; the busybox image: make)`);
  assert.is(planError(pod([{ name: 'c', image: 'Redis' }])), 'spec.containers[0].image: invalid reference format: "Redis": repository name must be lowercase');
});

test('image: the rootfs is absolute when the store path is not', () => {
  const { layers } = planPod(pod([{}]), { manifestDir, imagesDir: relative(process.cwd(), imagesDir), uid: UID, node, store }).containers[0]!;
  assert.equal(layers, [join(imagesDir, 'busybox', 'rootfs')]);
});

test('image: a store image reads config.json, null fields as unset', () => {
  assert.equal(container({ image: 'tagged:1.0' }).argv, ['run']);
});

const IMAGE_ERROR_CASES: [string, string][] = [
  ['foo', `spec.containers[0].image: image "foo" is not in the image store ${imagesDir} (minipod pull foo; the busybox image: make)`],
  ['busybox:1.0', `spec.containers[0].image: image "busybox:1.0" is not in the image store ${imagesDir} (minipod pull busybox:1.0; the busybox image: make)`],
  ['./missing', `spec.containers[0].image: image "./missing" not found (looked in ${join(manifestDir, 'missing')})`],
  ['./file', `spec.containers[0].image: image "./file" not found (looked in ${join(manifestDir, 'file')})`],
  ['Busybox', 'spec.containers[0].image: invalid reference format: "Busybox": repository name must be lowercase'],
  ['lib/../busybox', 'spec.containers[0].image: invalid reference format: "lib/../busybox": invalid repository name "lib/../busybox"'],
  ['busybox@sha256:abc', 'spec.containers[0].image: invalid reference format: "busybox@sha256:abc": invalid digest "sha256:abc"'],
  ['broken', `spec.containers[0].image: image "broken": ${join(imagesDir, 'broken', 'config.json')}: `],
  ['wrongtype', `spec.containers[0].image: image "wrongtype": ${join(imagesDir, 'wrongtype', 'config.json')}: config.Cmd must be an array of strings`],
];
for (const [name, message] of IMAGE_ERROR_CASES) {
  test(`image error: ${name}`, () => {
    const got = planError(pod([{ image: name, command: ['x'] }]));
    // JSON.parse's own words differ between V8 versions: compare up to them.
    if (message.endsWith(': ')) assert.ok(got.startsWith(message), got);
    else assert.is(got, message);
  });
}

test('planning errors of several containers are reported together, in manifest order, init containers first', () => {
  const manifest = pod([{ image: 'foo', command: ['x'] }, { command: ['x'] }, { image: 'bar', command: ['x'] }]);
  manifest.spec.initContainers = [{ name: 'init', image: 'baz', command: ['x'] }];
  assert.is(planError(manifest), [
    `spec.initContainers[0].image: image "baz" is not in the image store ${imagesDir} (minipod pull baz; the busybox image: make)`,
    `spec.containers[0].image: image "foo" is not in the image store ${imagesDir} (minipod pull foo; the busybox image: make)`,
    `spec.containers[2].image: image "bar" is not in the image store ${imagesDir} (minipod pull bar; the busybox image: make)`,
  ].join('\n'));
});

test.run();
