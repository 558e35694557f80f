import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { commandPod, pod } from '../helpers/cli.ts';

const { test, run } = kernelSuite('exit codes and errors');

test('0 when every container exits 0', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('ok.json', pod('ok', { a: 'true', b: 'exit 0' }))]);
  assert.is(r.exitCode, 0, r.all);
});

test('the code of the first container to fail', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('f.json', pod('f', { slow: 'sleep 0.5; exit 4', fast: 'exit 3' }))]);
  assert.is(r.exitCode, 3, r.all);
});

test('127 for a command that is not there, with its name', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('nf.json', commandPod('nf', ['no-such-program']))]);
  assert.is(r.exitCode, 127, r.all);
  assert.match(r.stderr, 'minipod: container "c": exec: "no-such-program": executable file not found in $PATH');
});

test('127 for a path that is not there', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('np.json', commandPod('np', ['/bin/nope']))]);
  assert.is(r.exitCode, 127, r.all);
  assert.match(r.stderr, 'exec: "/bin/nope": No such file or directory');
});

test('126 for a file that is not executable, with its path', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('nx.json', commandPod('nx', ['/etc/passwd']))]);
  assert.is(r.exitCode, 126, r.all);
  assert.match(r.stderr, 'exec: "/etc/passwd": Permission denied');
});

test('an app that itself exits 127 is not mistaken for a start failure', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('own127.json', pod('own127', { c: 'exit 127' }))]);
  assert.is(r.exitCode, 127, r.all);
  assert.not.match(r.stderr, 'exec:');
});

test('125 and one line per problem for a bad manifest; nothing is started', async ({ scratch }) => {
  const r = await scratch.minipod(['run', scratch.manifest('bad.json', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bad' },
    spec: { restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'busybox' }, { image: 'busybox' }] },
  })]);
  assert.is(r.exitCode, 125, r.all);
  assert.match(r.stderr, 'spec.containers[1].name: Required value');
  assert.match(r.stderr, 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  assert.not.match(r.all, 'at '); // no stack trace
});

test('125 for an image that does not exist (pull policy Never: the test asks no registry)', async ({ scratch }) => {
  const manifest = commandPod('noimg', ['true'], 'no-such-image');
  Object.assign(manifest.spec.containers[0]!, { imagePullPolicy: 'Never' });
  const r = await scratch.minipod(['run', scratch.manifest('noimg.json', manifest)]);
  assert.is(r.exitCode, 125, r.all);
  assert.is(r.stderr, 'minipod: spec.containers[0].image: ErrImageNeverPull: Container image "no-such-image" is not present with pull policy of Never');
});

test('125 for a manifest file that does not exist or does not parse', async ({ scratch }) => {
  const missing = await scratch.minipod(['run', `${scratch.dir}/nope.yaml`]);
  assert.is(missing.exitCode, 125);
  assert.is(missing.stderr.split('\n').length, 1, missing.stderr);
  const broken = await scratch.minipod(['run', scratch.manifest('broken.yaml', 'kind: Pod\n  bad: [indent\n')]);
  assert.is(broken.exitCode, 125);
  assert.match(broken.stderr, /^minipod: .*broken\.yaml/);
});

test('an image given as a path, relative to the manifest', async ({ scratch }) => {
  const { symlinkSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  symlinkSync(resolve('images/busybox/rootfs'), `${scratch.dir}/my-rootfs`);
  const r = await scratch.minipod(['run', scratch.manifest('path.json', commandPod('path', ['sh', '-c', 'echo from-path'], './my-rootfs'))]);
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.stdout, 'c | from-path');
});

test('a start that fails halfway (second container) stops the first and leaves nothing', async ({ scratch }) => {
  const { mkdirSync, symlinkSync } = await import('node:fs');
  // A rootfs whose /proc is a symlink to the host's root is refused.
  mkdirSync(`${scratch.dir}/hostile/rootfs`, { recursive: true });
  symlinkSync('/', `${scratch.dir}/hostile/rootfs/proc`);
  const manifest = pod('halfway', { first: 'sleep 30' });
  manifest.spec.containers.push({ name: 'second', image: './hostile/rootfs', command: ['/bin/sh'] });
  const r = await scratch.minipod(['run', scratch.manifest('halfway.json', manifest)]);
  assert.is(r.exitCode, 125, r.all);
  assert.match(r.stderr, /^minipod: start pod "halfway": rootfs \S+hostile\/rootfs: \/proc must be a directory, found a symlink$/m);
});

test('validate: a valid manifest is one line on stdout, exit 0; each field minipod cannot honour or does not know is one warning', async ({ scratch }) => {
  const manifest = pod('warned', { c: 'true' }, { nodeSelector: { disk: 'ssd' }, bogusField: 1 });
  const r = await scratch.minipod(['validate', scratch.manifest('warned.json', manifest)]);
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.stdout, /^\S+warned\.json: pod "warned" is valid \(1 container\)$/);
  const warnings = r.stderr.split('\n');
  assert.is(warnings.length, 2, r.stderr);
  assert.ok(warnings.every((line) => line.startsWith('minipod: warning: ')), r.stderr);
  assert.match(warnings.find((l) => l.includes('nodeSelector')) ?? '', 'spec.nodeSelector');
  assert.match(warnings.find((l) => l.includes('bogusField')) ?? '', 'spec.bogusField');
});

test('every problem at once, one "minipod: " line each: field errors, and what only planning finds (missing images)', async ({ scratch }) => {
  const invalid = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { restartPolicy: 'Sometimes', containers: [{ image: 'busybox' }] } };
  const bad = await scratch.minipod(['run', scratch.manifest('invalid.json', invalid)]);
  assert.is(bad.exitCode, 125, bad.all);
  const lines = bad.stderr.split('\n');
  assert.ok(lines.length >= 3, bad.stderr);
  assert.ok(lines.every((line) => line.startsWith('minipod: ')), bad.stderr);
  assert.ok(lines.some((l) => l.startsWith('minipod: spec.containers[0].name: Required value')), bad.stderr);
  assert.ok(lines.some((l) => l.startsWith('minipod: spec.restartPolicy: Unsupported value: "Sometimes"')), bad.stderr);

  const images = pod('images', { a: 'true', b: 'true' });
  images.spec.containers[0]!.image = 'nosuch-one';
  images.spec.containers[1]!.image = 'nosuch-two';
  const missing = await scratch.minipod(['validate', scratch.manifest('images.json', images)]);
  assert.is(missing.exitCode, 125, missing.all);
  const imageLines = missing.stderr.split('\n');
  assert.is(imageLines.length, 2, missing.stderr);
  assert.match(imageLines[0]!, /^minipod: spec\.containers\[0\]\.image: image "nosuch-one" is not in the image store /);
  assert.match(imageLines[1]!, /^minipod: spec\.containers\[1\]\.image: image "nosuch-two" is not in the image store /);
});

run();
