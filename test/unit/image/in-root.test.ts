import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readInRoot, resolveInRoot } from '../../../lib/image/in-root.ts';

// <tmp>/root is the image's root; <tmp>/outside.txt is a host file no path
// inside the root may reach.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-in-root-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const root = join(tmp, 'root');
const dirs = ['etc', 'usr/lib', 'usr/bin', 'a/b/c'];
for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
writeFileSync(join(root, 'etc', 'shadow'), 'inside\n');
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

const RESOLVE_CASES: [string, string][] = [
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
  ['/dangling', 'nowhere/file'],
  ['/missing/dir/file', 'missing/dir/file'],
  ['/missing/../etc/shadow', 'etc/shadow'],
  ['/n1', 'etc/shadow'],
];
for (const [path, inside] of RESOLVE_CASES) {
  test(`resolveInRoot: ${JSON.stringify(path)} -> root/${inside}`, () => {
    assert.is(resolveInRoot(root, path), `${root}/${inside}`);
  });
}

const LOOP_CASES: [string, string][] = [
  ['/loop1', '/loop1: too many levels of symbolic links'],
  ['/self/x', '/self/x: too many levels of symbolic links'],
  ['/n0', '/n0: too many levels of symbolic links'],
];
for (const [path, message] of LOOP_CASES) {
  test(`resolveInRoot: ${path} is ELOOP`, () => {
    assert.throws(
      () => resolveInRoot(root, path),
      (err: Error) => err.message === message && (err as NodeJS.ErrnoException).code === 'ELOOP',
    );
  });
}

const READ_CASES: [string, string | null][] = [
  ['/etc/shadow', 'inside\n'],
  ['/etc/passwd', 'inside\n'],
  ['/a/b/c/up', 'inside\n'],
  ['/slash/etc/rel', 'inside\n'],
  ['/escape', null],
  ['/absolute-escape', null],
  ['/../outside.txt', null],
  ['/dangling', null],
  ['/missing', null],
  ['/etc/shadow/x', null],
];
for (const [path, text] of READ_CASES) {
  test(`readInRoot: ${path} -> ${JSON.stringify(text)}`, () => {
    assert.is(readInRoot(root, path), text);
  });
}

test('readInRoot: other errors propagate (a directory: EISDIR; a loop: ELOOP)', () => {
  assert.throws(() => readInRoot(root, '/etc'), (err: Error) => (err as NodeJS.ErrnoException).code === 'EISDIR');
  assert.throws(() => readInRoot(root, '/loop1'), (err: Error) => (err as NodeJS.ErrnoException).code === 'ELOOP');
});

test.run();
