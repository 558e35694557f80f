// Bad input (issue #7): images whose rootfs holds hostile symlinks, built
// here from a copy of the busybox image, a rootfs without /bin/sh, working
// directories through /proc. Each must fail with one clear line, or stay
// confined to the container's root; and the host is checked to be
// untouched (a canary file and directory, the image itself). Covered
// elsewhere, and not repeated: the malformed-manifest corpus
// (test/integration/malformed.test.ts, a workingDir of /proc/self/fd/8
// among it), a /proc symlink in a second container's image (exit.test.ts),
// symlinked mount targets and subPaths that lead out to host directories
// (volumes.test.ts). Here: the other mount points, relative links, a file
// mount through a link to a host file, and what the links do at run time.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { commandPod, linesOf, pod, type Scratch } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { busyboxCopy } from '../helpers/reliability.ts';

const { test, run } = kernelSuite('bad input: hostile images and paths');

/** A canary directory with a file on the host, beside the images: must never change. */
function canary(scratch: Scratch) {
  const dir = join(scratch.dir, 'canary');
  mkdirSync(dir);
  const file = join(dir, 'file');
  writeFileSync(file, 'canary\n');
  return { dir, file, intact: () => readdirSync(dir).join() === 'file' && readFileSync(file, 'utf8') === 'canary\n' };
}

/** Every path in `dir`, for a before/after comparison of an image. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = `${prefix}/${e.name}`;
    return e.isDirectory() && !e.isSymbolicLink() ? [path, ...tree(join(dir, e.name), path)] : [path];
  }).sort();
}

const image = (scratch: Scratch, name: string) => busyboxCopy(join(scratch.dir, name));

for (const [dir, target] of [['proc', '/'], ['proc', '../../../../../../proc'], ['dev', '/dev'], ['sys', '/']] as const) {
  test(`an image whose /${dir} is a symlink to ${target}: exit 125, one line; nothing mounted, the host and the image untouched`, async ({ scratch }) => {
    const c = canary(scratch);
    const img = await image(scratch, 'img');
    rmSync(join(img, dir), { recursive: true });
    symlinkSync(target, join(img, dir));
    const before = tree(img);
    const r = await scratch.minipod(['run', scratch.manifest('h.json', commandPod('h', ['true'], img))]);
    assert.is(r.exitCode, 125, r.all);
    assert.is(r.stdout, '');
    assert.is(r.stderr, `minipod: start pod "h": rootfs ${img}: /${dir} must be a directory, found a symlink`);
    assert.equal(tree(img), before, 'the image is unchanged');
    assert.ok(c.intact(), 'the canary is unchanged');
  });
}

test('/etc/hosts -> /../../etc/shadow and /etc/resolv.conf -> a host file: resolved inside the root; reads find nothing, writes land in the container\'s layer', async ({ scratch }) => {
  const c = canary(scratch);
  assert.ok(existsSync('/etc/shadow'), 'the host has an /etc/shadow the link would name');
  const shadow = statSync('/etc/shadow');
  const img = await image(scratch, 'img');
  rmSync(join(img, 'etc/hosts'), { force: true });
  symlinkSync('/../../etc/shadow', join(img, 'etc/hosts'));
  symlinkSync(`/../../..${c.file}`, join(img, 'etc/resolv.conf'));
  const tmpCanary = `/tmp/minipod-canary-${process.pid}-${Date.now()}`;
  writeFileSync(tmpCanary, 'canary\n');
  symlinkSync(`/../../..${tmpCanary}`, join(img, 'etc/motd'));
  const before = tree(img);
  const m = pod('links', {
    c: [
      'cat /etc/hosts >/dev/null 2>&1 && echo "hosts=read" || echo "hosts=nothing"',
      'cat /etc/resolv.conf >/dev/null 2>&1 && echo "resolv=read" || echo "resolv=nothing"',
      // Its target's directories do not exist inside the root: the create fails there.
      '(echo written > /etc/resolv.conf) 2>/dev/null && echo "write=ok" || echo "write=no-such-directory"',
      // /tmp does: the file is made inside the root, in the layer.
      'echo written > /etc/motd && echo "motd=$(cat /etc/motd)"',
      `echo "inside=$(cat ${tmpCanary} 2>/dev/null)"`,
      'echo x > /etc/hosts && echo "shadow=$(cat /etc/shadow)"',
    ].join('; '),
  });
  (m.spec.containers[0] as Record<string, unknown>).image = img;
  const r2 = await scratch.minipod(['run', scratch.manifest('links.json', m)]);
  assert.is(r2.exitCode, 0, r2.all);
  const host = readFileSync(tmpCanary, 'utf8');
  rmSync(tmpCanary);
  assert.equal(linesOf(r2.stdout, 'c'), ['hosts=nothing', 'resolv=nothing', 'write=no-such-directory', 'motd=written', 'inside=written', 'shadow=x'], r2.all);
  assert.ok(c.intact(), 'the host file the link names is unchanged');
  assert.is(host, 'canary\n', `the host's ${tmpCanary} is unchanged`);
  const now = statSync('/etc/shadow');
  assert.equal([now.size, now.mtimeMs, now.ino], [shadow.size, shadow.mtimeMs, shadow.ino], 'the host\'s /etc/shadow is untouched');
  assert.equal(tree(img), before, 'the image is unchanged: the writes went to the layer');
});

test('a hostPath File volume mounted on a path that is a symlink to a host file: the bind lands inside the root, the host file is untouched', async ({ scratch }) => {
  const c = canary(scratch);
  const img = await image(scratch, 'img');
  symlinkSync(c.file, join(img, 'etc/config'));
  const source = join(scratch.dir, 'config-src');
  writeFileSync(source, 'volume\n');
  const m = pod('filemount', { c: 'cat /etc/config; echo more >> /etc/config; echo "target=$(cat ' + c.file + ')"' }, {
    volumes: [{ name: 'v', hostPath: { path: source, type: 'File' } }],
  });
  Object.assign(m.spec.containers[0] as object, { image: img, volumeMounts: [{ name: 'v', mountPath: '/etc/config' }] });
  const r = await scratch.minipod(['run', scratch.manifest('fm.json', m)]);
  assert.is(r.exitCode, 0, r.all);
  // The link's target is made inside the root, and the volume bound there: the container reads it by either name.
  assert.equal(linesOf(r.stdout, 'c'), ['volume', 'target=volume', 'more'], r.all);
  assert.is(readFileSync(source, 'utf8'), 'volume\nmore\n', 'the write went into the volume');
  assert.ok(c.intact(), 'the host file the link names is unchanged');
});

test('a rootfs without /bin/sh, and an empty rootfs: exit 127 with the exec message, one line; the images stay as they were', async ({ scratch }) => {
  const img = await image(scratch, 'nosh');
  unlinkSync(join(img, 'bin/sh'));
  const empty = join(scratch.dir, 'empty');
  mkdirSync(empty);
  for (const [name, command, rootfs, message] of [
    ['path', ['sh', '-c', 'true'], img, 'exec: "sh": executable file not found in $PATH'],
    ['abs', ['/bin/sh', '-c', 'true'], img, 'exec: "/bin/sh": No such file or directory'],
    ['empty', ['/bin/true'], empty, 'exec: "/bin/true": No such file or directory'],
  ] as const) {
    const before = tree(rootfs);
    const r = await scratch.minipod(['run', scratch.manifest(`${name}.json`, commandPod(name, [...command], rootfs))]);
    assert.is(r.exitCode, 127, r.all);
    assert.is(r.stdout, '');
    const own = r.stderr.split('\n').filter((l) => l.startsWith('minipod: '));
    assert.equal(own, [`minipod: container "c": ${message}`], r.stderr);
    assert.equal(tree(rootfs), before, `${name}: the image is unchanged (/proc, /dev, /sys made in the layer)`);
  }
});

test('workingDir through /proc: spelt out it is refused by validation; through a symlink in the image it fails to chdir or stays inside the root', async ({ scratch }) => {
  const c = canary(scratch);
  for (const dir of ['/proc/thread-self/fd/3', '/proc/1/task/1/fd/4', '//proc/self/fd/5', '/proc/self/./fd/6']) {
    const m = commandPod('wd', ['true']);
    (m.spec.containers[0] as Record<string, unknown>).workingDir = dir;
    const r = await scratch.minipod(['validate', scratch.manifest('wd.json', m)]);
    assert.is(r.exitCode, 125, r.all);
    assert.is(r.stderr, `minipod: spec.containers[0].workingDir: Invalid value: "${dir}": must not be under a /proc/PID/fd directory`);
  }
  const img = await image(scratch, 'img');
  writeFileSync(join(img, 'inside-marker'), '');
  const links: Record<string, string> = {
    ...Object.fromEntries([3, 4, 5, 6, 7, 8, 9, 10].map((n) => [`lfd${n}`, `/proc/self/fd/${n}`])),
    lcwd: '/proc/self/cwd', lroot: '/proc/1/root', lpid1cwd: '/proc/1/cwd', lup: '../../../../../proc/self/fd/3',
  };
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(img, name));
  const before = tree(img);
  const probe = `cd ../../../../../../../..; [ -e ./inside-marker ] && echo confined || echo ESCAPED; [ -e .${c.file} ] && echo CANARY || true`;
  const m = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wdlinks' },
    spec: { restartPolicy: 'Never', containers: Object.keys(links).map((name) => ({ name: name.toLowerCase(), image: img, workingDir: `/${name}`, command: ['sh', '-c', probe] })) },
  };
  const r = await scratch.minipod(['run', '-o', 'json', scratch.manifest('wdl.json', m)]);
  const status = JSON.parse(r.stdout) as { containerStatuses: { name: string; state: { terminated: { exitCode: number; reason: string; message?: string } } }[] };
  for (const s of status.containerStatuses) {
    const t = s.state.terminated;
    const out = linesOf(r.stderr, s.name);
    if (t.exitCode === 0) assert.equal(out, ['confined'], `${s.name} (-> ${links[s.name]}): ${r.stderr}`);
    else {
      assert.equal([t.exitCode, t.reason], [125, 'ContainerCannotRun'], `${s.name}: ${JSON.stringify(t)}`);
      assert.match(t.message!, /^chdir to cwd \("\/\w+"\) set in config: (Not a directory|No such file or directory)$/, `${s.name}: one clear reason`);
    }
  }
  assert.ok(status.containerStatuses.some((s) => s.state.terminated.exitCode === 0), 'some links (to a directory) are followed, inside the root');
  assert.ok(c.intact());
  assert.equal(tree(img), before, 'the image is unchanged');
});

run();
