import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import type { HostPathType } from '../../../lib/spec/manifest.ts';
import type { VolumePlan } from '../../../lib/spec/plan-types.ts';
import { PodDir } from '../../../lib/state/pod-dir.ts';
import { prepareVolumes } from '../../../lib/volume/prepare.ts';

// <tmp>/state is the state root (one PodDir per test); <tmp>/host holds the
// hostPath sources: a directory, a file, a unix socket, a link to each.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-volumes-'));
const state = join(tmp, 'state');
const host = join(tmp, 'host');
const dir = join(host, 'dir');
const file = join(host, 'file');
const socket = join(host, 'sock');
mkdirSync(dir, { recursive: true });
writeFileSync(file, 'x');
symlinkSync(dir, join(host, 'dir-link'));
symlinkSync(file, join(host, 'file-link'));

let server: Server | undefined;
test.before(async () => {
  server = createServer();
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(socket, resolve);
  });
});
test.after(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

let pods = 0;
const podDir = () => PodDir.create(state, `pod-${++pods}`);
const hostPath = (path: string, type: HostPathType, name = 'v'): VolumePlan => ({ name, kind: 'hostPath', path, type });
const emptyDir = (name: string, medium: 'disk' | 'memory' = 'disk'): VolumePlan => ({ name, kind: 'emptyDir', medium, sizeLimitBytes: null });

/** The process umask, read by making a file 0777 (Deno has no process.umask() getter to rely on). */
function umask(): number {
  const probe = join(tmp, `umask-${++pods}`);
  writeFileSync(probe, '', { mode: 0o777 });
  const mode = statSync(probe).mode & 0o777;
  rmSync(probe);
  return 0o777 & ~mode;
}

function prepareError(volumes: VolumePlan[], pod = podDir()): string {
  try {
    prepareVolumes(volumes, pod);
  } catch (err) {
    assert.instance(err, MinipodError);
    return (err as Error).message;
  }
  throw assert.unreachable('prepared');
}

test('no volumes: an empty map, nothing made', () => {
  const pod = podDir();
  assert.equal([...prepareVolumes([], pod)], []);
  assert.not.ok(existsSync(pod.volumes));
});

test('emptyDir: <pod>/volumes/<name>, mode 0777 whatever the umask, both media', () => {
  const pod = podDir();
  const sources = prepareVolumes([emptyDir('cache'), emptyDir('mem', 'memory')], pod);
  assert.equal([...sources], [['cache', join(pod.path, 'volumes', 'cache')], ['mem', join(pod.path, 'volumes', 'mem')]]);
  for (const path of sources.values()) {
    const stat = statSync(path);
    assert.ok(stat.isDirectory());
    assert.is(stat.mode & 0o7777, 0o777);
  }
});

test('emptyDir: an existing directory is kept, its contents too', () => {
  const pod = podDir();
  mkdirSync(join(pod.volumes, 'cache'), { recursive: true, mode: 0o700 });
  writeFileSync(join(pod.volumes, 'cache', 'kept'), 'k');
  prepareVolumes([emptyDir('cache')], pod);
  assert.is(statSync(join(pod.volumes, 'cache')).mode & 0o7777, 0o777);
  assert.ok(existsSync(join(pod.volumes, 'cache', 'kept')));
});

test('volumes of both kinds, in order', () => {
  const pod = podDir();
  const sources = prepareVolumes([hostPath(dir, 'Directory', 'h'), emptyDir('e'), hostPath(file, '', 'f')], pod);
  assert.equal([...sources], [['h', dir], ['e', join(pod.volumes, 'e')], ['f', file]]);
});

// Types that only check: the path is returned as given.
const CHECK_CASES: [string, HostPathType, string][] = [
  ['"" on a directory', '', dir],
  ['"" on a missing path: no check', '', join(host, 'missing')],
  ['Directory', 'Directory', dir],
  ['Directory through a symlink', 'Directory', join(host, 'dir-link')],
  ['DirectoryOrCreate on a directory', 'DirectoryOrCreate', dir],
  ['File', 'File', file],
  ['File through a symlink', 'File', join(host, 'file-link')],
  ['FileOrCreate on a file', 'FileOrCreate', file],
  ['Socket', 'Socket', socket],
  ['CharDevice', 'CharDevice', '/dev/null'],
];
for (const [name, type, path] of CHECK_CASES) {
  test(`hostPath ${name}: accepted`, () => {
    assert.equal([...prepareVolumes([hostPath(path, type)], podDir())], [['v', path]]);
  });
}

const ERROR_CASES: [HostPathType, string, string][] = [
  ['Directory', join(host, 'missing'), 'is not a directory'],
  ['Directory', file, 'is not a directory'],
  ['Directory', join(host, 'file-link'), 'is not a directory'],
  ['Directory', socket, 'is not a directory'],
  ['DirectoryOrCreate', file, 'is not a directory'],
  ['File', join(host, 'missing'), 'is not a file'],
  ['File', dir, 'is not a file'],
  ['File', '/dev/null', 'is not a file'],
  ['FileOrCreate', dir, 'is not a file'],
  ['Socket', join(host, 'missing'), 'is not a socket file'],
  ['Socket', file, 'is not a socket file'],
  ['CharDevice', join(host, 'missing'), 'is not a character device'],
  ['CharDevice', file, 'is not a character device'],
  ['BlockDevice', join(host, 'missing'), 'is not a block device'],
  ['BlockDevice', '/dev/null', 'is not a block device'],
  ['BlockDevice', dir, 'is not a block device'],
];
for (const [type, path, what] of ERROR_CASES) {
  test(`hostPath ${type} on ${path.startsWith(host) ? path.slice(host.length + 1) : path}: ${what}`, () => {
    assert.is(prepareError([hostPath(path, type)]), `MountVolume.SetUp failed for volume "v": hostPath type check failed: ${path} ${what}`);
  });
}

test('hostPath DirectoryOrCreate: made with its parents, 0755 (less the umask)', () => {
  const path = join(host, 'made', 'deep', 'dir');
  assert.equal([...prepareVolumes([hostPath(path, 'DirectoryOrCreate')], podDir())], [['v', path]]);
  for (const made of [join(host, 'made'), join(host, 'made', 'deep'), path]) {
    const stat = statSync(made);
    assert.ok(stat.isDirectory(), made);
    assert.is(stat.mode & 0o7777, 0o755 & ~umask(), made);
  }
});

test('hostPath FileOrCreate: made empty, 0644 (less the umask)', () => {
  const path = join(host, 'made-file');
  assert.equal([...prepareVolumes([hostPath(path, 'FileOrCreate')], podDir())], [['v', path]]);
  const stat = statSync(path);
  assert.ok(stat.isFile());
  assert.is(stat.size, 0);
  assert.is(stat.mode & 0o7777, 0o644 & ~umask());
});

test('hostPath FileOrCreate: an existing file is left as it is', () => {
  prepareVolumes([hostPath(file, 'FileOrCreate')], podDir());
  assert.is(statSync(file).size, 1);
});

test('hostPath FileOrCreate: the parent must exist', () => {
  const path = join(host, 'no-parent', 'file');
  // Node's own words for the failed open(2), the same under Deno.
  assert.is(prepareError([hostPath(path, 'FileOrCreate')]), `MountVolume.SetUp failed for volume "v": ENOENT: no such file or directory, open '${path}'`);
  assert.not.ok(existsSync(join(host, 'no-parent')));
});

test('the first failing volume stops the rest, named in the message', () => {
  const pod = podDir();
  const message = prepareError([emptyDir('ok'), hostPath(file, 'Directory', 'bad'), emptyDir('later')], pod);
  assert.is(message, `MountVolume.SetUp failed for volume "bad": hostPath type check failed: ${file} is not a directory`);
  assert.ok(existsSync(join(pod.volumes, 'ok')));
  assert.not.ok(existsSync(join(pod.volumes, 'later')));
});

test.run();
