// resolveInLayers / readInLayers: a one-directory rootfs (the chroot-like
// resolution of symlinks: `..` and absolute targets stop at the root, 40
// links at most), then three layers merged as overlayfs merges them
// (whiteouts, opaque directories, a directory over a file and the reverse).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readInLayers, resolveInLayers } from '../../../lib/image/layered.ts';
import { isRoot } from '../../helpers/cli.ts';

// <tmp>/root is the image's root; <tmp>/outside.txt is a host file no path
// inside the root may reach: each way out lands on a decoy inside the root.
// Both suites share it: the last one removes it.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-layered-'));

const root = join(tmp, 'root');
const dirs = ['etc', 'usr/lib', 'usr/bin', 'a/b/c', tmp.slice(1)];
for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
const files = ['etc/shadow', 'x', 'usr/x', 'usr/lib/x', 'usr/bin/sh', 'outside.txt', `${tmp.slice(1)}/outside.txt`];
for (const file of files) writeFileSync(join(root, file), `${file}\n`);
writeFileSync(join(tmp, 'outside.txt'), 'outside\n');
const links: [string, string][] = [
  ['etc/passwd', '/etc/shadow'],
  ['etc/rel', 'shadow'],
  ['etc/up', '../../../../etc/shadow'],
  ['a/b/c/up', '../../../../../../etc/shadow'],
  ['chain1', 'chain2'],
  ['chain2', '/etc/rel'],
  ['lib', 'usr/lib'],
  ['bin', '/usr/bin'],
  ['slash', '/'],
  ['dotdot', '..'],
  ['escape', '../outside.txt'],
  ['absolute-escape', join(tmp, 'outside.txt')],
  ['dangling', '/nowhere/file'],
  ['loop1', 'loop2'],
  ['loop2', '/loop1'],
  ['self', 'self'],
];
for (const [path, target] of links) symlinkSync(target, join(root, path));
// n0 -> n1 -> ... -> n40 -> etc/shadow: 41 links from n0, 40 from n1.
for (let i = 0; i <= 40; i++) symlinkSync(i === 40 ? 'etc/shadow' : `n${i + 1}`, join(root, `n${i}`));

const RESOLVE_CASES: [string, string | null][] = [
  ['/etc/shadow', 'etc/shadow'],
  ['etc/shadow', 'etc/shadow'],
  ['//etc/./shadow', 'etc/shadow'],
  ['/', ''],
  ['', ''],
  ['/etc/passwd', 'etc/shadow'],
  ['/etc/rel', 'etc/shadow'],
  ['/etc/up', 'etc/shadow'],
  ['/a/b/c/up', 'etc/shadow'],
  ['/chain1', 'etc/shadow'],
  ['../../../etc/shadow', 'etc/shadow'],
  ['/../../../x', 'x'],
  ['/a/b/../../../../etc/shadow', 'etc/shadow'],
  ['/lib/x', 'usr/lib/x'],
  ['/bin/sh', 'usr/bin/sh'],
  ['/lib/../x', 'usr/x'],
  ['/slash/etc/passwd', 'etc/shadow'],
  ['/slash/../slash/slash/etc', 'etc'],
  ['/dotdot/dotdot/etc/rel', 'etc/shadow'],
  ['/escape', 'outside.txt'],
  ['/absolute-escape', `${tmp.slice(1)}/outside.txt`],
  ['/n1', 'etc/shadow'],
  // What does not exist is null, as the kernel says ENOENT: also when a
  // later `..` would climb back out of it.
  ['/dangling', null],
  ['/missing/dir/file', null],
  ['/missing/../etc/shadow', null],
  // Through a non-directory: ENOTDIR.
  ['/etc/shadow/x', null],
  ['/etc/shadow/..', null],
];
for (const [path, inside] of RESOLVE_CASES) {
  test(`resolveInLayers, one layer: ${JSON.stringify(path)} -> ${inside === null ? 'null' : `root/${inside}`}`, () => {
    assert.is(resolveInLayers([root], path)?.host ?? null, inside === null ? null : `${root}/${inside}`);
  });
}

test('resolveInLayers: followLast false returns a final symlink itself, and still follows the ones before it', () => {
  const link = resolveInLayers([root], '/lib', { followLast: false })!;
  assert.is(link.host, `${root}/lib`);
  assert.ok(link.stat.isSymbolicLink());
  assert.is(resolveInLayers([root], '/lib/x', { followLast: false })!.host, `${root}/usr/lib/x`);
  assert.is(resolveInLayers([root], '/dangling', { followLast: false })!.host, `${root}/dangling`);
  assert.ok(resolveInLayers([root], '/lib')!.stat.isDirectory());
});

test('resolveInLayers: no layers, nothing', () => {
  assert.is(resolveInLayers([], '/etc'), null);
});

const LOOP_CASES: [string, string][] = [
  ['/loop1', '/loop1: too many levels of symbolic links'],
  ['/self/x', '/self/x: too many levels of symbolic links'],
  ['/n0', '/n0: too many levels of symbolic links'],
];
for (const [path, message] of LOOP_CASES) {
  test(`resolveInLayers: ${path} is ELOOP`, () => {
    assert.throws(
      () => resolveInLayers([root], path),
      (err: Error) => err.message === message && (err as NodeJS.ErrnoException).code === 'ELOOP',
    );
  });
}

const READ_CASES: [string, string | null][] = [
  ['/etc/shadow', 'etc/shadow\n'],
  ['/etc/passwd', 'etc/shadow\n'],
  ['/a/b/c/up', 'etc/shadow\n'],
  ['/slash/etc/rel', 'etc/shadow\n'],
  ['/escape', 'outside.txt\n'],
  ['/absolute-escape', `${tmp.slice(1)}/outside.txt\n`],
  ['/../outside.txt', 'outside.txt\n'],
  ['/dangling', null],
  ['/missing', null],
  ['/etc/shadow/x', null],
];
for (const [path, text] of READ_CASES) {
  test(`readInLayers, one layer: ${path} -> ${JSON.stringify(text)}`, () => {
    assert.is(readInLayers([root], path), text);
  });
}

test('readInLayers: other errors propagate (a directory: EISDIR; a loop: ELOOP)', () => {
  assert.throws(() => readInLayers([root], '/etc'), (err: Error) => (err as NodeJS.ErrnoException).code === 'EISDIR');
  assert.throws(() => readInLayers([root], '/loop1'), (err: Error) => (err as NodeJS.ErrnoException).code === 'ELOOP');
});

test.run();

// Three layers as store snapshots: <tmp>/layers/<n>/fs, with layer.json
// beside it naming the opaque directories. A whiteout is a 0:0 character
// device, which only root can make.
const layers = suite('resolveInLayers, three layers');
layers.after(() => rmSync(tmp, { recursive: true, force: true }));
const L = [0, 1, 2].map((n) => join(tmp, 'layers', String(n), 'fs'));

function layer(n: number, spec: { dirs?: string[]; files?: string[]; links?: [string, string][]; whiteouts?: string[]; opaque?: string[] }) {
  const fs = L[n]!;
  for (const dir of spec.dirs ?? []) mkdirSync(join(fs, dir), { recursive: true });
  for (const file of spec.files ?? []) {
    mkdirSync(dirname(join(fs, file)), { recursive: true });
    writeFileSync(join(fs, file), `${file} in ${n}\n`);
  }
  for (const [path, target] of spec.links ?? []) symlinkSync(target, join(fs, path));
  for (const path of spec.whiteouts ?? []) execFileSync('mknod', [join(fs, path), 'c', '0', '0']);
  writeFileSync(join(dirname(fs), 'layer.json'), JSON.stringify({ diffID: 'sha256:x', size: 0, opaque: spec.opaque ?? [], whiteouts: spec.whiteouts ?? [] }));
}

if (isRoot) {
  layer(0, {
    dirs: ['usr/lib', 'dir-then-file', 'dirlink/bin'],
    files: ['etc/passwd', 'etc/group', 'usr/bin/a', 'usr/lib/libc', 'opq/keep', 'opq/sub/x', 'gone', 'gone-dir/f', 'file-then-dir', 'dir-then-file/f', 'dirlink/file'],
    links: [['lib', 'usr/lib']],
  });
  layer(1, {
    dirs: ['opq'],
    files: ['etc/passwd', 'opq/new', 'usr/bin/b', 'file-then-dir/inner', 'dir-then-file'],
    whiteouts: ['gone', 'gone-dir'],
    opaque: ['/opq'],
  });
  layer(2, {
    files: ['etc/hosts', 'usr/bin/c', 'gone-dir/new'],
    links: [['link-up', '../../etc/passwd'], ['abs', '/usr/bin/a'], ['dirlink', '/usr']],
    whiteouts: ['usr/bin/b'],
  });
}

const LAYER_CASES: [string, string | null][] = [
  ['/etc/passwd', '1/fs/etc/passwd'],
  ['/etc/group', '0/fs/etc/group'],
  ['/etc/hosts', '2/fs/etc/hosts'],
  ['/etc', '2/fs/etc'],
  ['/usr/bin', '2/fs/usr/bin'],
  ['/usr/bin/a', '0/fs/usr/bin/a'],
  ['/usr/bin/b', null],
  ['/usr/bin/c', '2/fs/usr/bin/c'],
  ['/gone', null],
  ['/gone-dir/f', null],
  ['/gone-dir/new', '2/fs/gone-dir/new'],
  ['/opq/keep', null],
  ['/opq/sub/x', null],
  ['/opq/new', '1/fs/opq/new'],
  ['/file-then-dir/inner', '1/fs/file-then-dir/inner'],
  ['/dir-then-file', '1/fs/dir-then-file'],
  ['/dir-then-file/f', null],
  ['/lib/libc', '0/fs/usr/lib/libc'],
  ['/link-up', '1/fs/etc/passwd'],
  ['/abs', '0/fs/usr/bin/a'],
  ['/dirlink/bin/a', '0/fs/usr/bin/a'],
  ['/dirlink/file', null],
  ['/usr/bin/../../etc/group', '0/fs/etc/group'],
];
const layerTest = isRoot ? layers : layers.skip;
for (const [path, host] of LAYER_CASES) {
  layerTest(`${path} -> ${host ?? 'null'}`, () => {
    assert.is(resolveInLayers(L, path)?.host ?? null, host === null ? null : join(tmp, 'layers', host));
  });
}

layerTest('readInLayers reads the topmost copy', () => {
  assert.is(readInLayers(L, '/etc/passwd'), 'etc/passwd in 1\n');
  assert.is(readInLayers(L, '/etc/group'), 'etc/group in 0\n');
  assert.is(readInLayers(L, '/gone'), null);
});

layerTest('a whiteout is not found with followLast false either; the lower layers alone still show the entry', () => {
  assert.is(resolveInLayers(L, '/gone', { followLast: false }), null);
  assert.is(resolveInLayers(L.slice(0, 1), '/gone')!.host, `${L[0]}/gone`);
  assert.is(resolveInLayers(L.slice(0, 2), '/usr/bin/b')!.host, `${L[1]}/usr/bin/b`);
});

layerTest('an opaque root ("/" in layer.json) hides every layer below', () => {
  const top = join(tmp, 'opaque-root', 'fs');
  mkdirSync(join(top, 'etc'), { recursive: true });
  writeFileSync(join(top, 'etc', 'hosts'), 'top\n');
  writeFileSync(join(dirname(top), 'layer.json'), JSON.stringify({ diffID: 'sha256:x', size: 0, opaque: ['/'], whiteouts: [] }));
  assert.is(resolveInLayers([L[0]!, top], '/etc/passwd'), null);
  assert.is(readInLayers([L[0]!, top], '/etc/hosts'), 'top\n');
});

if (!isRoot) console.log('  skipping "resolveInLayers, three layers": a whiteout is a 0:0 character device, which needs root to make');
layers.run();
