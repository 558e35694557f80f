import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { hostDir, linesOf, podIds, type Scratch, waitFor } from '../helpers/cli.ts';

const { test, run } = kernelSuite('volumes: emptyDir, hostPath, readOnly, subPath, and the container layer');

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const busybox = join(repo, 'images/busybox/rootfs');

interface Mount { name: string; mountPath: string; readOnly?: boolean; subPath?: string }
interface Container { name: string; script: string; mounts?: Mount[]; image?: string }

/** A pod whose containers run `sh -c SCRIPT` with volume mounts. */
function volumePod(name: string, volumes: object[], containers: Container[], initContainers: Container[] = []) {
  const spec = (c: Container) => ({
    name: c.name,
    image: c.image ?? 'busybox',
    command: ['sh', '-c', c.script],
    ...(c.mounts ? { volumeMounts: c.mounts } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', volumes, initContainers: initContainers.map(spec), containers: containers.map(spec) },
  };
}

/**
 * A hostPath directory for a handshake with a running pod: the container
 * writes `ready`, the test looks at the host, then writes `done`.
 */
function signals(scratch: Scratch) {
  const { dir, volume, mount } = hostDir(scratch, 'signals');
  return {
    volume,
    mount,
    /** Shell: say ready, then wait (at most 10 s) for the test. */
    handshake: 'touch /signals/ready; i=0; while [ ! -e /signals/done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
    ready: () => waitFor(() => (existsSync(join(dir, 'ready')) ? true : undefined), 'the container to be ready'),
    done: () => writeFileSync(join(dir, 'done'), ''),
  };
}

const hostMountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');

test('an emptyDir is shared by init and app containers, mode 0777, under <root>/<podid>/volumes/<name> while the pod runs', async ({ scratch }) => {
  const sig = signals(scratch);
  const work = { name: 'work', mountPath: '/work' };
  const file = scratch.manifest('empty.json', volumePod('empty', [{ name: 'work', emptyDir: {} }, sig.volume], [
    { name: 'reader', mounts: [work], script: 'cat /work/from-init; stat -c %a /work' },
    { name: 'writer', mounts: [{ name: 'work', mountPath: '/elsewhere' }, sig.mount], script: `echo from-app > /elsewhere/from-app; ${sig.handshake}` },
  ], [{ name: 'init', mounts: [work], script: 'echo written-by-init > /work/from-init' }]));
  const running = scratch.minipod(['run', file]);
  await sig.ready();
  const pods = podIds(scratch.root);
  assert.is(pods.length, 1, `one pod directory in the state root: ${pods}`);
  const onHost = join(scratch.root, pods[0]!, 'volumes', 'work');
  try {
    assert.equal(readdirSync(onHost).sort(), ['from-app', 'from-init']);
    assert.is(readFileSync(join(onHost, 'from-app'), 'utf8'), 'from-app\n');
    assert.is(statSync(onHost).mode & 0o7777, 0o777);
  } finally {
    sig.done();
  }
  const r = await running;
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'reader'), ['written-by-init', '777']);
  assert.not.ok(existsSync(onHost), 'removed with the pod');
});

test('medium Memory: a tmpfs of sizeLimit in the pod only; writing past it fails with ENOSPC', async ({ scratch }) => {
  const sig = signals(scratch);
  const file = scratch.manifest('mem.json', volumePod('mem', [
    { name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    sig.volume,
  ], [{
    name: 'c',
    mounts: [{ name: 'm', mountPath: '/m' }, sig.mount],
    script: [
      'df -k /m | tail -1 | awk \'{print $1, $2}\'',
      'grep " /m " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1',
      'stat -c %a /m',
      'echo in-memory > /m/note',
      'dd if=/dev/zero of=/m/big bs=1024 count=2048 2>&1 | head -1',
      sig.handshake,
    ].join('; '),
  }]));
  const running = scratch.minipod(['run', file]);
  await sig.ready();
  let hostView: { mounts: string[]; files: string[] };
  try {
    const [pod] = podIds(scratch.root);
    hostView = {
      mounts: hostMountinfo().split('\n').filter((l) => l.includes(scratch.root)),
      files: readdirSync(join(scratch.root, pod!, 'volumes', 'm')),
    };
  } finally {
    sig.done();
  }
  const r = await running;
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), [
    'tmpfs 1024',
    'tmpfs',
    '777',
    "dd: error writing '/m/big': No space left on device",
  ]);
  assert.equal(hostView.mounts, [], 'nothing of the pod is mounted in the host mount namespace');
  assert.equal(hostView.files, [], 'what the container wrote is in the tmpfs, not in the directory on the host');
});

test('hostPath DirectoryOrCreate and FileOrCreate create what is missing (0755 dir, empty 0644 file); writes reach the host', async ({ scratch }) => {
  const dir = join(scratch.dir, 'made', 'by', 'minipod');
  const fileOnHost = join(scratch.dir, 'made-file');
  const file = scratch.manifest('create.json', volumePod('create', [
    { name: 'd', hostPath: { path: dir, type: 'DirectoryOrCreate' } },
    { name: 'f', hostPath: { path: fileOnHost, type: 'FileOrCreate' } },
  ], [{
    name: 'c',
    mounts: [{ name: 'd', mountPath: '/d' }, { name: 'f', mountPath: '/etc/f.conf' }],
    script: 'wc -c < /etc/f.conf; echo to-dir > /d/out; echo to-file > /etc/f.conf',
  }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['0'], 'the file was created empty');
  assert.is(statSync(dir).mode & 0o7777, 0o755);
  assert.is(statSync(fileOnHost).mode & 0o7777, 0o644);
  assert.is(readFileSync(join(dir, 'out'), 'utf8'), 'to-dir\n');
  assert.is(readFileSync(fileOnHost, 'utf8'), 'to-file\n');
});

test('hostPath types File, Directory, CharDevice and Socket accept what they name', async ({ scratch }) => {
  const conf = join(scratch.dir, 'app.conf');
  writeFileSync(conf, 'key=value\n');
  const dir = join(scratch.dir, 'dir');
  mkdirSync(dir);
  writeFileSync(join(dir, 'inside'), 'in-dir\n');
  const socket = join(scratch.dir, 'app.sock');
  const server = createServer();
  await new Promise<void>((ok) => server.listen(socket, ok));
  try {
    const file = scratch.manifest('types.json', volumePod('types', [
      { name: 'file', hostPath: { path: conf, type: 'File' } },
      { name: 'dir', hostPath: { path: dir, type: 'Directory' } },
      { name: 'null', hostPath: { path: '/dev/null', type: 'CharDevice' } },
      { name: 'sock', hostPath: { path: socket, type: 'Socket' } },
    ], [{
      name: 'c',
      mounts: [
        { name: 'file', mountPath: '/conf/app.conf' },
        { name: 'dir', mountPath: '/dir' },
        { name: 'null', mountPath: '/mnt/null' },
        { name: 'sock', mountPath: '/run/app.sock' },
      ],
      script: 'cat /conf/app.conf /dir/inside; [ -c /mnt/null ] && echo char; echo gone > /mnt/null; [ -S /run/app.sock ] && echo socket',
    }]));
    const r = await scratch.minipod(['run', file]);
    assert.is(r.exitCode, 0, r.all);
    assert.equal(linesOf(r.stdout, 'c'), ['key=value', 'in-dir', 'char', 'socket']);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
});

test('a failed hostPath type check: exit 125, the kubelet\'s message, nothing started, nothing left behind', async ({ scratch }) => {
  const aFile = join(scratch.dir, 'plain');
  writeFileSync(aFile, '');
  const marker = join(scratch.dir, 'marker');
  mkdirSync(marker);
  const cases: [object, string][] = [
    [{ path: join(scratch.dir, 'missing'), type: 'Directory' }, `${join(scratch.dir, 'missing')} is not a directory`],
    [{ path: aFile, type: 'Directory' }, `${aFile} is not a directory`],
    [{ path: aFile, type: 'DirectoryOrCreate' }, `${aFile} is not a directory`],
    [{ path: scratch.dir, type: 'File' }, `${scratch.dir} is not a file`],
    [{ path: aFile, type: 'Socket' }, `${aFile} is not a socket file`],
    [{ path: aFile, type: 'CharDevice' }, `${aFile} is not a character device`],
    [{ path: '/dev/null', type: 'BlockDevice' }, '/dev/null is not a block device'],
  ];
  for (const [hostPath, reason] of cases) {
    const file = scratch.manifest('bad.json', volumePod('bad', [
      { name: 'marker', hostPath: { path: marker } },
      { name: 'vol', hostPath },
    ], [{ name: 'c', mounts: [{ name: 'marker', mountPath: '/marker' }, { name: 'vol', mountPath: '/vol' }], script: 'touch /marker/ran' }]));
    const r = await scratch.minipod(['run', file]);
    assert.is(r.exitCode, 125, r.all);
    assert.is(r.stderr, `minipod: start pod "bad": MountVolume.SetUp failed for volume "vol": hostPath type check failed: ${reason}`);
    assert.is(r.stdout, '');
    assert.equal(readdirSync(marker), [], 'no container ran');
    assert.equal(existsSync(scratch.root) ? readdirSync(scratch.root) : [], [], 'no pod directory left');
  }
});

test('readOnly: writes in that mount fail with EROFS; another mount of the same volume stays writable', async ({ scratch }) => {
  const dir = join(scratch.dir, 'shared');
  mkdirSync(dir);
  writeFileSync(join(dir, 'keep'), 'original\n');
  const file = scratch.manifest('ro.json', volumePod('ro', [{ name: 'v', hostPath: { path: dir, type: 'Directory' } }], [{
    name: 'c',
    mounts: [{ name: 'v', mountPath: '/ro', readOnly: true }, { name: 'v', mountPath: '/rw' }],
    script: 'echo changed > /ro/keep; touch /ro/new; cat /ro/keep; echo via-rw > /rw/new; cat /ro/new',
  }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stderr, 'c'), [
    'sh: can\'t create /ro/keep: Read-only file system',
    'touch: /ro/new: Read-only file system',
  ]);
  assert.equal(linesOf(r.stdout, 'c'), ['original', 'via-rw'], 'the read-only mount still shows what the other wrote');
  assert.is(readFileSync(join(dir, 'keep'), 'utf8'), 'original\n');
});

test('subPath mounts a sub-directory (created when missing) or a single file of the volume', async ({ scratch }) => {
  const dir = join(scratch.dir, 'vol');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'settings'), 'level=3\n');
  writeFileSync(join(dir, 'top-secret'), 'not for the container\n');
  const file = scratch.manifest('sub.json', volumePod('sub', [{ name: 'v', hostPath: { path: dir, type: 'Directory' } }], [{
    name: 'c',
    mounts: [
      { name: 'v', mountPath: '/data', subPath: 'new/deep' },
      { name: 'v', mountPath: '/etc/settings', subPath: 'conf/settings' },
    ],
    script: 'ls -A /data | wc -l; echo hello > /data/hi; cat /etc/settings',
  }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['0', 'level=3'], 'an empty new directory, not the volume with its top-secret');
  assert.is(readFileSync(join(dir, 'new', 'deep', 'hi'), 'utf8'), 'hello\n');
  assert.is(statSync(join(dir, 'new', 'deep')).isDirectory(), true);
});

test('subPath through a symlink that leaves the volume is refused: exit 125, the host is never exposed', async ({ scratch }) => {
  const marker = join(scratch.dir, 'marker');
  mkdirSync(marker);
  for (const [link, target] of [['escape', '/'], ['up', '../../../../../..'], ['abs', '/work/inner']]) {
    const file = scratch.manifest('esc.json', volumePod('esc', [
      { name: 'w', emptyDir: {} },
      { name: 'marker', hostPath: { path: marker, type: 'Directory' } },
    ], [{
      name: 'app',
      mounts: [{ name: 'w', mountPath: '/x', subPath: link! }, { name: 'marker', mountPath: '/marker' }],
      script: 'touch /marker/app-ran; ls /x',
    }], [{
      name: 'init',
      mounts: [{ name: 'w', mountPath: '/work' }],
      script: `mkdir /work/inner; ln -s ${target} /work/${link}`,
    }]));
    const r = await scratch.minipod(['run', file]);
    assert.is(r.exitCode, 125, `${link} -> ${target}: ${r.all}`);
    assert.is(r.stderr, `minipod: start pod "esc": mount volume on /x (subPath "${link}"): subPath leads outside its volume (through a symlink or ..)`);
    assert.equal(readdirSync(marker), [], 'the app container never started');
  }
});

test('subPath through a relative symlink that stays in the volume is followed', async ({ scratch }) => {
  const file = scratch.manifest('rel.json', volumePod('rel', [{ name: 'w', emptyDir: {} }], [{
    name: 'app',
    mounts: [{ name: 'w', mountPath: '/x', subPath: 'link' }],
    script: 'cat /x/f',
  }], [{
    name: 'init',
    mounts: [{ name: 'w', mountPath: '/work' }],
    script: 'mkdir -p /work/a/b; echo through-link > /work/a/b/f; ln -s a/b /work/link',
  }]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'app'), ['through-link']);
});

/**
 * A copy of the busybox image in the scratch directory with two links to
 * `outside` and `outside-rel`, host directories next to it: /data by
 * absolute path, /logs climbing out with `..`.
 */
async function imageWithLinks(scratch: Scratch) {
  const img = join(scratch.dir, 'img');
  await execa('cp', ['-a', busybox, img]);
  const outside = join(scratch.dir, 'outside');
  const outsideRel = join(scratch.dir, 'outside-rel');
  mkdirSync(outside);
  mkdirSync(outsideRel);
  await execa('ln', ['-s', outside, join(img, 'data')]);
  await execa('ln', ['-s', `../../../../../../../..${outsideRel}`, join(img, 'logs')]);
  const file = scratch.manifest('link.json', volumePod('link', [{ name: 'v', emptyDir: {} }, { name: 'l', emptyDir: {} }], [
    { name: 'reader', mounts: [{ name: 'v', mountPath: '/v' }, { name: 'l', mountPath: '/l' }], script: 'cat /v/f /l/g' },
  ], [{
    name: 'writer',
    image: img,
    mounts: [{ name: 'v', mountPath: '/data' }, { name: 'l', mountPath: '/logs' }],
    script: 'echo in-volume > /data/f; echo in-logs > /logs/g; ls -A /data/ /logs/',
  }]));
  return { img, outside, outsideRel, file };
}

test('a mount target that is a symlink in the image is resolved inside the container root, never on the host', async ({ scratch }) => {
  const { img, outside, outsideRel, file } = await imageWithLinks(scratch);
  // The links' targets exist inside the image too: that is where the mounts must land.
  mkdirSync(join(img, outside), { recursive: true });
  mkdirSync(join(img, outsideRel), { recursive: true });
  const r = await scratch.minipod(['run', file]);
  assert.equal(readdirSync(outside), [], 'the host directory the link names is untouched');
  assert.equal(readdirSync(outsideRel), []);
  assert.equal(readdirSync(join(img, outside)), [], 'the image is untouched: the mount is on the container\'s layer');
  assert.equal(readdirSync(join(img, outsideRel)), []);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'writer'), ['/data/:', 'f', '', '/logs/:', 'g']);
  assert.equal(linesOf(r.stdout, 'reader'), ['in-volume', 'in-logs'], 'the writes went into the volumes');
});

test('a mount target that is a dangling symlink in the image: its target is made inside the root, and the volume is seen there', async ({ scratch }) => {
  // As runc (MkdirAllInRoot) does: the link's target, missing in the image,
  // is created inside the container's root; the host is never touched.
  const { img, outside, outsideRel, file } = await imageWithLinks(scratch);
  const r = await scratch.minipod(['run', file]);
  assert.equal(readdirSync(outside), [], 'the host directory the link names is untouched');
  assert.equal(readdirSync(outsideRel), []);
  assert.not.ok(existsSync(join(img, outside)), 'the missing target was made in the layer, not in the image');
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'writer'), ['/data/:', 'f', '', '/logs/:', 'g']);
  assert.equal(linesOf(r.stdout, 'reader'), ['in-volume', 'in-logs'], 'the writes went into the volumes');
});

test('each container writes to its own layer: the image and the other containers never see it; mount points are made in the layer', async ({ scratch }) => {
  const name = `minipod-volumes-test-${process.pid}-${Date.now()}`;
  assert.not.ok(existsSync(join(busybox, 'data')), 'the busybox image has no /data to begin with');
  const file = scratch.manifest('layer.json', volumePod('layer', [{ name: 'v', emptyDir: {} }], [
    { name: 'other', script: `cat /etc/${name} 2>/dev/null || echo absent; ls -d /data /new 2>/dev/null | wc -l` },
  ], [
    { name: 'writer', mounts: [{ name: 'v', mountPath: '/data' }, { name: 'v', mountPath: '/new/deep/point' }], script: `echo mine > /etc/${name}; echo x > /bin/extra; cat /etc/${name}; ls -d /data /new/deep/point` },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'writer'), ['mine', '/data', '/new/deep/point']);
  assert.equal(linesOf(r.stdout, 'other'), ['absent', '0']);
  for (const path of [`etc/${name}`, 'bin/extra', 'data', 'new']) {
    assert.not.ok(existsSync(join(busybox, path)), `the image has no /${path}`);
  }
});

test('nested mounts are made parents first, whatever their order in the manifest', async ({ scratch }) => {
  const file = scratch.manifest('nested.json', volumePod('nested', [{ name: 'outer', emptyDir: {} }, { name: 'inner', emptyDir: {} }], [
    { name: 'check', mounts: [{ name: 'outer', mountPath: '/o' }, { name: 'inner', mountPath: '/i' }], script: 'ls -A /o; echo --; ls -A /i' },
  ], [
    {
      name: 'writer',
      mounts: [{ name: 'inner', mountPath: '/data/logs' }, { name: 'outer', mountPath: '/data' }],
      script: 'echo a > /data/logs/app.log; echo b > /data/top',
    },
  ]));
  const r = await scratch.minipod(['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'check'), ['logs', 'top', '--', 'app.log'], 'logs is the mount point in outer; the log went into inner');
});

run();
