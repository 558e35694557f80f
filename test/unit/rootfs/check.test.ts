// checkMountPoints: /proc, /dev and /sys in the image must be directories
// or absent (then made in the container's layer); looked up in the merged
// layers, a final symlink not followed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkMountPoints } from '../../../lib/rootfs/check.ts';
import { minipodError } from '../../helpers/assert.ts';
import { isRoot } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-check-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh directory with `dirs` as directories, `links` as symlinks to /tmp, `files` as files. */
function tree(name: string, spec: { dirs?: string[]; links?: string[]; files?: string[]; whiteouts?: string[] }): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const d of spec.dirs ?? []) mkdirSync(join(dir, d));
  for (const l of spec.links ?? []) symlinkSync('/tmp', join(dir, l));
  for (const f of spec.files ?? []) writeFileSync(join(dir, f), '');
  for (const w of spec.whiteouts ?? []) execFileSync('mknod', [join(dir, w), 'c', '0', '0']);
  return dir;
}

test('one directory: all three present, none missing', () => {
  assert.equal(checkMountPoints([tree('full', { dirs: ['proc', 'dev', 'sys'] })]), []);
});

test('one directory: the absent ones are returned, in mount order', () => {
  assert.equal(checkMountPoints([tree('empty', {})]), ['proc', 'dev', 'sys']);
  assert.equal(checkMountPoints([tree('no-dev', { dirs: ['proc', 'sys'] })]), ['dev']);
});

test('one directory: a symlink or a file is refused, naming the rootfs', () => {
  const linked = tree('linked', { dirs: ['proc', 'sys'], links: ['dev'] });
  assert.is(minipodError(() => checkMountPoints([linked])), `rootfs ${linked}: /dev must be a directory, found a symlink`);
  const file = tree('file', { dirs: ['proc', 'dev'], files: ['sys'] });
  assert.is(minipodError(() => checkMountPoints([file])), `rootfs ${file}: /sys must be a directory, found a file`);
});

test('layers: the topmost entry decides, and the error names the layer that has the symlink', () => {
  const lower = tree('lower', { dirs: ['dev', 'sys'], links: ['proc'] });
  const upper = tree('upper', { dirs: ['proc'], links: ['sys'] });
  assert.is(minipodError(() => checkMountPoints([lower, upper])), `rootfs ${upper}: /sys must be a directory, found a symlink`);
  const fixed = tree('fixed', { dirs: ['proc', 'sys'] });
  assert.equal(checkMountPoints([lower, fixed]), []);
});

(isRoot ? test : test.skip)('layers: a whiteout in an upper layer makes the lower directory missing', () => {
  const lower = tree('wh-lower', { dirs: ['proc', 'dev', 'sys'] });
  const upper = tree('wh-upper', { whiteouts: ['dev'] });
  assert.equal(checkMountPoints([lower, upper]), ['dev']);
});
if (!isRoot) console.log('  skipping "layers: a whiteout ...": a whiteout is a 0:0 character device, which needs root to make');

test.run();
