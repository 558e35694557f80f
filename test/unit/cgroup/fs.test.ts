// CgroupFs over a temporary directory standing in for the machine's root.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupFs } from '../../../lib/cgroup/fs.ts';
import { minipodError } from '../../helpers/assert.ts';

function withRoot(fn: (fs: CgroupFs, root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'minipod-cgroupfs-'));
  try {
    mkdirSync(`${root}/sys/fs/cgroup`, { recursive: true });
    fn(new CgroupFs(root), root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('paths are under the root prefix; without one they are the paths themselves', () => {
  withRoot((fs, root) => {
    assert.is(fs.root, root);
    assert.is(fs.hostPath('/sys/fs/cgroup/a/cgroup.procs'), `${root}/sys/fs/cgroup/a/cgroup.procs`);
  });
  const real = new CgroupFs();
  assert.is(real.root, '');
  assert.is(real.hostPath('/sys/fs/cgroup/a/cgroup.procs'), '/sys/fs/cgroup/a/cgroup.procs');
});

test('mkdir: true when made, false when it was already there (EEXIST); exists sees it', () => {
  withRoot((fs, root) => {
    assert.not.ok(fs.exists('/sys/fs/cgroup/pod'));
    assert.is(fs.mkdir('/sys/fs/cgroup/pod'), true);
    assert.ok(fs.exists('/sys/fs/cgroup/pod'));
    assert.is(fs.mkdir('/sys/fs/cgroup/pod'), false);
    // Under the root, not the machine's /sys/fs/cgroup.
    assert.ok(statSync(`${root}/sys/fs/cgroup/pod`).isDirectory());
    mkdirSync(`${root}/sys/fs/cgroup/pod/child`);
    assert.is(fs.mkdir('/sys/fs/cgroup/pod/child'), false);
  });
});

test('mkdir: any other error is a MinipodError naming the cgroup', () => {
  withRoot((fs) => {
    const message = minipodError(() => fs.mkdir('/sys/fs/cgroup/missing/pod'));
    assert.match(message, /^create cgroup \/sys\/fs\/cgroup\/missing\/pod: ENOENT/);
  });
});

test('rmdir: null when removed or already gone, else the error code', () => {
  withRoot((fs, root) => {
    mkdirSync(`${root}/sys/fs/cgroup/pod/app`, { recursive: true });
    assert.is(fs.rmdir('/sys/fs/cgroup/pod'), 'ENOTEMPTY');
    assert.ok(fs.exists('/sys/fs/cgroup/pod/app'));
    assert.is(fs.rmdir('/sys/fs/cgroup/pod/app'), null);
    assert.not.ok(fs.exists('/sys/fs/cgroup/pod/app'));
    assert.is(fs.rmdir('/sys/fs/cgroup/pod/app'), null);
    writeFileSync(`${root}/sys/fs/cgroup/pod/file`, '');
    assert.is(fs.rmdir('/sys/fs/cgroup/pod/file'), 'ENOTDIR');
  });
});

test('read: the text, or null for a missing file', () => {
  withRoot((fs, root) => {
    writeFileSync(`${root}/sys/fs/cgroup/pids.current`, '3\n');
    assert.is(fs.read('/sys/fs/cgroup/pids.current'), '3\n');
    assert.is(fs.read('/sys/fs/cgroup/memory.peak'), null);
    assert.is(fs.read('/sys/fs/cgroup/missing/memory.peak'), null);
    // Another error is not "missing": it names the file.
    const message = minipodError(() => fs.read('/sys/fs/cgroup'));
    assert.match(message, /^read \/sys\/fs\/cgroup: EISDIR/);
  });
});

test('write: the text as given; an error names the text and the path', () => {
  withRoot((fs, root) => {
    fs.write('/sys/fs/cgroup/pids.max', '1024');
    assert.is(readFileSync(`${root}/sys/fs/cgroup/pids.max`, 'utf8'), '1024');
    fs.write('/sys/fs/cgroup/pids.max', 'max');
    assert.is(readFileSync(`${root}/sys/fs/cgroup/pids.max`, 'utf8'), 'max');
    const message = minipodError(() => fs.write('/sys/fs/cgroup/missing/pids.max', '64'));
    assert.match(message, /^write "64" to \/sys\/fs\/cgroup\/missing\/pids\.max: ENOENT/);
  });
});

test.run();
