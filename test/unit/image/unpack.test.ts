import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LayerError } from '../../../lib/image/layer-error.ts';
import { MAX_ENTRIES } from '../../../lib/image/unpack.ts';
import { isRoot } from '../../helpers/cli.ts';
import {
  END, entry, host, OCI_GZIP, OCI_TAR, OCI_ZSTD, own, type PackEntry, paxHeader, Scene, tarOf, type UnpackAs, withoutOpenat2,
} from '../../helpers/layers.ts';

// Every test unpacks into a fresh Scene: dest/ (the snapshot) beside
// outside.txt and canary/file, which hostile layers aim at; `refuses`
// checks the exact line and that nothing beside dest changed. Without
// root, entries are owned by the test's own user, so the rules run
// unprivileged; what needs root (other owners, devices, whiteouts,
// trusted xattrs, overlay mounts) is skipped, saying so.

const withScene = (fn: (s: Scene) => Promise<void>) => async () => {
  const scene = new Scene();
  try {
    await fn(scene);
  } finally {
    scene.remove();
  }
};
const rootTest = (title: string, fn: (s: Scene) => Promise<void>, why = 'other owners, mknod, trusted xattrs') => {
  if (isRoot) return test(title, withScene(fn));
  console.log(`  skipping "${title}": it needs root (${why})`);
  test.skip(title);
};
/** Missing parents are made root's: a layer that leaves them out unpacks only as root. */
const IMPLICIT = 'missing parent directories are chowned to root';
const anyTest = (title: string, fn: (s: Scene) => Promise<void>) => test(title, withScene(fn));
type RefuseOptions = UnpackAs & { root?: string };
const refused = (title: string, layer: (s: Scene) => Promise<Uint8Array> | Uint8Array, message: (s: Scene) => string, opts: RefuseOptions = {}) => {
  const fn = async (s: Scene) => {
    await s.refuses(await layer(s), message(s), opts);
  };
  if (opts.root) rootTest(`refused: ${title}`, fn, opts.root);
  else anyTest(`refused: ${title}`, fn);
};
const asRoot = { root: 'whiteouts are made with mknod' };

const hasPython = await execa('python3', ['-c', '0'], { reject: false }).then((r) => r.exitCode === 0, () => false);
/** An xattr's value in hex, read with python3 (node has no getxattr); null when the file has none. */
async function xattr(path: string, name: string): Promise<string | null> {
  const script = 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print("none")';
  const { stdout } = await execa('python3', ['-c', script, path, name]);
  return stdout === 'none' ? null : stdout;
}
const hex = (text: string) => Buffer.from(text).toString('hex');

// --- names ---

const NAMES: [string, string][] = [
  ['../outside.txt', 'path leaves the layer'],
  ['../../etc/x', 'path leaves the layer'],
  ['a/../../outside.txt', 'path leaves the layer'],
  ['./../canary/file', 'path leaves the layer'],
  ['a/../b', 'name has a ".." component'],
  ['/etc/x', 'absolute name (names in a layer are relative to its root)'],
];
for (const [name, rule] of NAMES) {
  refused(`the name ${JSON.stringify(name)}`, () => tarOf([{ name: 'first', body: '1' }, { name, body: 'pwned' }]), () => `layer entry ${JSON.stringify(name)}: ${rule}`);
}
refused('an absolute name aimed at the canary', (s) => tarOf([{ name: join(s.canary, 'file'), body: 'pwned' }]),
  (s) => `layer entry ${JSON.stringify(join(s.canary, 'file'))}: absolute name (names in a layer are relative to its root)`);
refused('an empty name (an empty PAX path over a ustar name)', () => Buffer.concat([paxHeader([['path', '']]), entry({ name: 'etc/passwd' }, Buffer.from('x')), END]),
  () => 'layer entry "": empty name');
refused('a NUL in a name', () => Buffer.concat([paxHeader([['path', 'etc/passwd\0.txt']]), entry({ name: 'x' }, Buffer.from('x')), END]),
  () => 'layer entry "etc/passwd\\u0000.txt": name contains a NUL byte');
refused('a newline in a name stays on one line', () => tarOf([{ name: 'a\n/../../x', body: 'x' }]),
  () => 'layer entry "a\\n/../../x": path leaves the layer');
refused('the root as a symlink', (s) => tarOf([{ name: '.', type: 'symlink', linkname: s.canary }]),
  () => 'layer entry ".": symlink in place of the layer\'s root directory');

anyTest('"./" prefixes are stripped and the root entry is skipped', async (s) => {
  const result = await s.unpack(await tarOf([{ name: './', type: 'directory', mode: 0o700 }, { name: './etc/', type: 'directory' }, { name: './etc/hosts', body: 'h' }]));
  assert.equal(s.listing(), ['etc d 755 0:0'.replace('0:0', `${own.uid}:${own.gid}`), `etc/hosts f 644 ${own.uid}:${own.gid} =h`]);
  assert.is(statSync(s.dest).mode & 0o777, 0o755);
  assert.equal(result.whiteouts, []);
});

// --- symlinks are never followed while writing ---

refused('a file through a relative symlink out of the layer', () => tarOf([{ name: 'link', type: 'symlink', linkname: '../canary' }, { name: 'link/file', body: 'pwned' }]),
  () => 'layer entry "link/file": "link" is a symlink: writing through it is refused');
refused('a file through an absolute symlink to the canary', (s) => tarOf([{ name: 'link', type: 'symlink', linkname: s.canary }, { name: 'link/new', body: 'pwned' }]),
  () => 'layer entry "link/new": "link" is a symlink: writing through it is refused');
refused('a file through a symlink deeper down', () => tarOf([{ name: 'd', type: 'directory' }, { name: 'd/up', type: 'symlink', linkname: '../..' }, { name: 'd/up/outside.txt', body: 'pwned' }]),
  () => 'layer entry "d/up/outside.txt": "d/up" is a symlink: writing through it is refused');
refused('a symlink that replaced a directory, then a file in it', (s) => tarOf([
  { name: 'd', type: 'directory' }, { name: 'd/x', body: 'x' }, { name: 'd', type: 'symlink', linkname: s.canary }, { name: 'd/y', body: 'pwned' },
]), () => 'layer entry "d/y": "d" is a symlink: writing through it is refused');
refused('a directory through a symlink', (s) => tarOf([{ name: 'link', type: 'symlink', linkname: s.canary }, { name: 'link/sub/', type: 'directory' }]),
  () => 'layer entry "link/sub/": "link" is a symlink: writing through it is refused');
refused('a hard link through a symlink', (s) => tarOf([{ name: 'link', type: 'symlink', linkname: s.canary }, { name: 'h', type: 'link', linkname: 'link/file' }]),
  () => 'layer entry "h": hard link to "link/file", which no earlier entry of this layer created');
refused('a hard link placed through a symlink', (s) => tarOf([{ name: 'f', body: 'x' }, { name: 'link', type: 'symlink', linkname: s.canary }, { name: 'link/h', type: 'link', linkname: 'f' }]),
  () => 'layer entry "link/h": "link" is a symlink: writing through it is refused');
refused('a file under a regular file', () => tarOf([{ name: 'f', body: 'x' }, { name: 'f/g', body: 'y' }]),
  () => 'layer entry "f/g": "f" is not a directory');
refused('a whiteout through a symlink', (s) => tarOf([{ name: 'link', type: 'symlink', linkname: s.canary }, { name: 'link/.wh.file' }]),
  () => 'layer entry "link/.wh.file": "link" is a symlink: writing through it is refused');
refused('an opaque marker through a symlink', (s) => tarOf([{ name: 'link', type: 'symlink', linkname: s.canary }, { name: 'link/.wh..wh..opq' }]),
  () => 'layer entry "link/.wh..wh..opq": "link" is a symlink: writing through it is refused');

anyTest('a symlink is created as it is, never followed; a later file of its name replaces it', async (s) => {
  await s.unpack(await tarOf([
    { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'out', type: 'symlink', linkname: '../outside.txt' },
    { name: 'out', body: 'new' },
  ]));
  assert.equal(s.listing(), [`out f 644 ${own.uid}:${own.gid} =new`, `passwd l 777 ${own.uid}:${own.gid} -> /etc/passwd`]);
  s.assertOutsideUnchanged();
});

anyTest('on a kernel without openat2 the walk refuses the same symlinks and unpacks the same tree', async (s) => {
  const libc = withoutOpenat2(host.libc);
  const layer = await tarOf([
    { name: 'etc/', type: 'directory' }, { name: 'etc/hosts', body: 'h' }, { name: 'etc/hostname', type: 'link', linkname: 'etc/hosts' },
    { name: 'etc/sub/', type: 'directory' }, { name: 'etc/sub/deep', body: 'd' }, { name: 'etc/up', type: 'symlink', linkname: '../..' },
  ]);
  await s.unpack(layer, { libc });
  const u = `${own.uid}:${own.gid}`;
  assert.equal(s.listing(), [`etc d 755 ${u}`, `etc/hostname f 644 ${u} =h`, `etc/hosts f 644 ${u} =h`, `etc/sub d 755 ${u}`, `etc/sub/deep f 644 ${u} =d`, `etc/up l 777 ${u} -> ../..`]);
  const other = new Scene();
  try {
    await other.refuses(await tarOf([{ name: 'link', type: 'symlink', linkname: other.canary }, { name: 'link/file', body: 'pwned' }]),
      'layer entry "link/file": "link" is a symlink: writing through it is refused', { libc });
  } finally {
    other.remove();
  }
});

for (const [kernel, libc] of [['openat2', host.libc], ['no openat2', withoutOpenat2(host.libc)]] as const) {
  anyTest(`a symlink planted in the snapshot behind the unpacker's back is not followed either (${kernel})`, async (s) => {
    // The record of what the layer made does not know it: the descriptors and O_EXCL are what stop it.
    symlinkSync(s.canary, join(s.dest, 'etc'));
    await s.refuses(await tarOf([{ name: 'etc/passwd', body: 'pwned' }]), 'layer entry "etc/passwd": mkdirat(/, "etc"): EEXIST', { libc });
  });
  anyTest(`an entry of the name of a planted symlink replaces the link, never writes through it (${kernel})`, async (s) => {
    symlinkSync(join(s.canary, 'file'), join(s.dest, 'f'));
    await s.unpack(await tarOf([{ name: 'f', body: 'replaced' }]), { libc });
    assert.equal(s.listing(), [`f f 644 ${own.uid}:${own.gid} =replaced`]);
    s.assertOutsideUnchanged();
  });
}

// --- hard links ---

refused('a hard link out of the layer', () => tarOf([{ name: 'h', type: 'link', linkname: '../outside.txt' }]),
  () => 'layer entry "h": hard link to "../outside.txt": path leaves the layer');
refused('a hard link to an absolute host path', (s) => tarOf([{ name: 'h', type: 'link', linkname: join(s.dir, 'outside.txt') }]),
  (s) => `layer entry "h": hard link to ${JSON.stringify(join(s.dir, 'outside.txt'))}: absolute name (names in a layer are relative to its root)`);
refused('a hard link with ".." that stays inside', () => tarOf([{ name: 'f', body: 'x' }, { name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd/../f' }]),
  () => 'layer entry "h": hard link to "d/../f": name has a ".." component');
refused('a hard link to an absent target', () => tarOf([{ name: 'h', type: 'link', linkname: 'etc/shadow' }]),
  () => 'layer entry "h": hard link to "etc/shadow", which no earlier entry of this layer created');
refused('a hard link to a later entry', () => tarOf([{ name: 'h', type: 'link', linkname: 'f' }, { name: 'f', body: 'x' }]),
  () => 'layer entry "h": hard link to "f", which no earlier entry of this layer created');
refused('a hard link to a directory', () => tarOf([{ name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]),
  () => 'layer entry "h": hard link to "d", a directory');
refused('a hard link to an implicit directory', () => tarOf([{ name: 'd/f', body: 'x' }, { name: 'h', type: 'link', linkname: 'd/' }]),
  () => 'layer entry "h": hard link to "d/", a directory', { root: IMPLICIT });
refused('a hard link to itself', () => tarOf([{ name: 'h', type: 'link', linkname: './h' }]),
  () => 'layer entry "h": hard link to "./h", itself');
refused('a hard link to the root', () => tarOf([{ name: 'h', type: 'link', linkname: './' }]),
  () => 'layer entry "h": hard link to "./", which no earlier entry of this layer created');

anyTest('hard links to a file and to a symlink share their inodes', async (s) => {
  await s.unpack(await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'usr/', type: 'directory' },
    { name: 'bin/busybox', body: 'ELF', mode: 0o755 },
    { name: 'bin/sh', type: 'link', linkname: './bin/busybox' },
    { name: 'lnk', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'usr/lnk2', type: 'link', linkname: 'lnk' },
  ]));
  const [a, b] = [lstatSync(join(s.dest, 'bin/busybox')), lstatSync(join(s.dest, 'bin/sh'))];
  assert.is(b.ino, a.ino);
  assert.is(a.nlink, 2);
  const [l, l2] = [lstatSync(join(s.dest, 'lnk')), lstatSync(join(s.dest, 'usr/lnk2'))];
  assert.ok(l2.isSymbolicLink());
  assert.is(l2.ino, l.ino);
  assert.is(readlinkSync(join(s.dest, 'usr/lnk2')), '/bin/busybox');
});

// --- types ---

refused('a GNU sparse file', () => Buffer.concat([entry({ name: 's', type: 'S' }), END]), () => 'layer entry "s": GNU sparse file (type S) is not supported');
refused('a contiguous file', () => tarOf([{ name: 'c', type: 'contiguous-file', body: 'x' }]), () => 'layer entry "c": contiguous file (type 7) is not supported');
refused('an unknown type', () => Buffer.concat([entry({ name: 'q', type: 'Q' }), END]), () => 'layer entry "q": entry of unknown type "Q" is not supported');
refused('a symlink with an empty target', () => Buffer.concat([entry({ name: 's', type: '2' }), END]), () => 'layer entry "s": symlink with an empty target');
refused('a symlink target with a NUL', () => Buffer.concat([paxHeader([['linkpath', '/etc\0/x']]), entry({ name: 's', type: '2', linkname: 'x' }), END]),
  () => 'layer entry "s": symlink target contains a NUL byte');

rootTest('a 300-character path and a 200-character link target (PAX)', async (s) => {
  const long = `${'d'.repeat(99)}/${'e'.repeat(99)}/${'f'.repeat(100)}`;
  const target = `/${'t'.repeat(99)}/${'u'.repeat(100)}`;
  await s.unpack(await tarOf([{ name: long, body: 'long' }, { name: 'sym', type: 'symlink', linkname: target }, { name: `${long.slice(0, 200)}/h`, type: 'link', linkname: long }]));
  assert.is(readFileSync(join(s.dest, long), 'utf8'), 'long');
  assert.is(readlinkSync(join(s.dest, 'sym')), target);
  assert.is(lstatSync(join(s.dest, long.slice(0, 200), 'h')).ino, lstatSync(join(s.dest, long)).ino);
}, IMPLICIT);

anyTest('long names as GNU tar writes them (--format=gnu: L and K blocks)', async (s) => {
  const src = join(s.dir, 'src');
  const long = `${'g'.repeat(120)}/${'h'.repeat(120)}/${'i'.repeat(60)}`;
  await execa('mkdir', ['-p', join(src, long.slice(0, 241))]);
  await execa('sh', ['-c', `printf gnu > "${join(src, long)}" && ln -s "/${'k'.repeat(199)}" "${join(src, 'sym')}"`]);
  const { stdout } = await execa('tar', ['--format=gnu', `--owner=${own.uid}`, `--group=${own.gid}`, '--numeric-owner', '-C', src, '-cf', '-', '.'], { encoding: 'buffer' });
  await execa('rm', ['-rf', src]);
  await s.unpack(stdout as Uint8Array);
  assert.is(readFileSync(join(s.dest, long), 'utf8'), 'gnu');
  assert.is(readlinkSync(join(s.dest, 'sym')), `/${'k'.repeat(199)}`);
});

// --- a later entry of the same name ---

anyTest('a later entry replaces an earlier one; a directory over a directory only takes its metadata', async (s) => {
  await s.unpack(await tarOf([
    { name: 'f', body: 'one' },
    { name: 'f', body: 'two', mode: 0o600 },
    { name: 'd/', type: 'directory', mode: 0o700 },
    { name: 'd/kept', body: 'k' },
    { name: 'd/', type: 'directory', mode: 0o750 },
    { name: 'x', body: 'file' },
    { name: 'x/', type: 'directory' },
    { name: 'x/in', body: 'i' },
    { name: 'y/', type: 'directory' },
    { name: 'y/gone', body: 'g' },
    { name: 'y', body: 'file now' },
  ]));
  const u = `${own.uid}:${own.gid}`;
  assert.equal(s.listing(), [`d d 750 ${u}`, `d/kept f 644 ${u} =k`, `f f 600 ${u} =two`, `x d 755 ${u}`, `x/in f 644 ${u} =i`, `y f 644 ${u} =file now`]);
});

anyTest('a hard link may name a file the layer replaced: it links the latest', async (s) => {
  await s.unpack(await tarOf([{ name: 'f', body: 'old' }, { name: 'f', body: 'new' }, { name: 'h', type: 'link', linkname: 'f' }]));
  assert.is(readFileSync(join(s.dest, 'h'), 'utf8'), 'new');
});

refused('a hard link to what a later directory replaced', () => tarOf([{ name: 'f', body: 'x' }, { name: 'f/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'f' }]),
  () => 'layer entry "h": hard link to "f", a directory');
refused('a hard link into a directory that a file replaced', () => tarOf([{ name: 'd/f', body: 'x' }, { name: 'd', body: 'file' }, { name: 'h', type: 'link', linkname: 'd/f' }]),
  () => 'layer entry "h": hard link to "d/f", which no earlier entry of this layer created', { root: IMPLICIT });

// --- size ---

refused('more file content than --max-unpacked-size, before the file that crosses it is written', () => tarOf([{ name: 'a', body: 'x'.repeat(600) }, { name: 'b', body: 'y'.repeat(600) }]),
  () => 'layer unpacks to more than 1000 bytes (--max-unpacked-size)', { max: 1000 });

anyTest('a gzip bomb is refused by its header, before anything is written', async (s) => {
  const bomb = gzipSync(await tarOf([{ name: 'zeros', body: new Uint8Array(64 << 20) }]));
  assert.ok(bomb.length < 100_000);
  const started = Date.now();
  await s.refuses(bomb, 'layer unpacks to more than 1048576 bytes (--max-unpacked-size)', { max: 1 << 20, mediaType: OCI_GZIP });
  assert.ok(Date.now() - started < 2000, 'refused without inflating it');
  assert.equal(readdirSync(s.dest), []);
});

anyTest('exactly --max-unpacked-size is allowed; size counts file content only', async (s) => {
  const result = await s.unpack(await tarOf([{ name: 'a', body: 'x'.repeat(600) }, { name: 'b', body: 'y'.repeat(400) }, { name: 'h', type: 'link', linkname: 'a' }, { name: 'd/', type: 'directory' }]), { max: 1000 });
  assert.is(result.size, 1000);
});

refused('more entries than the bound, ignored ones included', () => tarOf([{ name: 'a/' , type: 'directory' }, { name: 'a/b', body: '' }, { name: '.wh..wh.aufs' }, { name: 'c', body: '' }]),
  () => 'layer has more than 3 entries', { maxEntries: 3 });

test('the entry bound is a million by default', () => {
  assert.is(MAX_ENTRIES, 1_000_000);
});

// --- compression and the diffID ---

const LAYER = () => tarOf([
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', body: 'minipod\n' },
  { name: 'big', body: Buffer.from(Array.from({ length: 200000 }, (_, i) => i % 251)) },
]);
const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const zstd = async (data: Uint8Array) => (await execa('zstd', ['-q', '-c'], { input: Buffer.from(data), encoding: 'buffer' })).stdout as Uint8Array;

test('plain, gzip, multi-member gzip and zstd layers unpack alike; the diffID is of the uncompressed tar', async () => {
  const tar = await LAYER();
  const half = Math.floor(tar.length / 2);
  const blobs: [string, Uint8Array][] = [
    [OCI_TAR, tar],
    [OCI_GZIP, gzipSync(tar)],
    [OCI_GZIP, Buffer.concat([gzipSync(tar.subarray(0, half)), gzipSync(tar.subarray(half))])],
    [OCI_ZSTD, await zstd(tar)],
    // Labelled wrong, as docker save archives and some registries do: the content decides.
    [OCI_TAR, gzipSync(tar)],
    [OCI_GZIP, tar],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', await zstd(tar)],
  ];
  for (const [mediaType, blob] of blobs) {
    const scene = new Scene();
    try {
      const result = await scene.unpack(blob, { mediaType, chunk: 1000 });
      assert.equal(result, { diffID: sha(tar), size: 200008, opaque: [], whiteouts: [] });
      assert.is(readFileSync(join(scene.dest, 'etc/hostname'), 'utf8'), 'minipod\n');
      assert.is(createHash('sha256').update(readFileSync(join(scene.dest, 'big'))).digest('hex'), createHash('sha256').update(tar.subarray(2048, 202048)).digest('hex'));
    } finally {
      scene.remove();
    }
  }
});

refused('garbage', () => Buffer.from('<html>502 Bad Gateway</html>'.repeat(30)),
  () => 'layer is not a tar archive (media type application/vnd.oci.image.layer.v1.tar+gzip; its content, uncompressed, has no tar header)', { mediaType: OCI_GZIP });
refused('gzip of something that is not a tar', () => gzipSync(Buffer.from('{"schemaVersion": 2}'.repeat(40))),
  () => 'layer is not a tar archive (media type application/vnd.oci.image.layer.v1.tar+gzip; its content, gzip-compressed, has no tar header)', { mediaType: OCI_GZIP });
refused('truncated gzip', async () => { const b = gzipSync(await LAYER()); return b.subarray(0, b.length >> 1); }, () => "layer's gzip data is truncated");
refused('truncated zstd', async () => { const b = await zstd(await LAYER()); return b.subarray(0, b.length >> 1); }, () => "layer's zstd data is truncated");
refused('a truncated tar', async () => (await LAYER()).subarray(0, 100_000), () => 'layer is truncated: its tar stream ends inside an entry');

anyTest('an error of the blob is a LayerError with the original as its cause', async (s) => {
  const tar = await LAYER();
  const boom = new Error('connection reset by peer');
  const blob = (async function* () {
    yield tar.subarray(0, 5000);
    throw boom;
  })();
  let error: unknown;
  try {
    await s.unpack(blob);
  } catch (err) {
    error = err;
  }
  assert.instance(error, LayerError);
  assert.is((error as Error).message, 'layer: connection reset by peer');
  assert.is((error as Error).cause, boom);
});

// --- root: ownership, modes, xattrs, times, devices ---

// vfs_cap_data revision 2 (cap_net_raw, cap_net_bind_service; bytes >= 0x80 that are not UTF-8).
const CAPABILITY = Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x24, 0x80, 0xff]), Buffer.alloc(12)]);

rootTest('owners, modes with setuid/setgid/sticky, xattrs, times and device nodes are kept', async (s) => {
  const tar = Buffer.concat([
    paxHeader([['mtime', '1500000000.123456789']]),
    entry({ name: 'dir/', type: '5', mode: 0o2750, uid: 1234, gid: 5678, mtime: 1 }),
    paxHeader([['SCHILY.xattr.security.capability', CAPABILITY], ['SCHILY.xattr.user.note', 'héllo'], ['SCHILY.xattr.trusted.x', '1'], ['uid', '3000000']]),
    entry({ name: 'dir/ping', mode: 0o4755, gid: 4321, mtime: 1400000000 }, Buffer.from('ELF')),
    entry({ name: 'dir/sgid', mode: 0o2711, uid: 5, gid: 6 }, Buffer.from('x')),
    entry({ name: 'tmp/', type: '5', mode: 0o1777, mtime: 1300000000 }),
    entry({ name: 'tmp/sym', type: '2', linkname: '/nowhere', uid: 7, gid: 8, mtime: 1200000000 }),
    entry({ name: 'dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3 }),
    entry({ name: 'dev/loop300', type: '4', mode: 0o660, gid: 6, devmajor: 7, devminor: 300 }),
    entry({ name: 'dev/fifo', type: '6', mode: 0o4620 }),
    END,
  ]);
  await s.unpack(tar);
  const st = (p: string) => lstatSync(join(s.dest, p), { bigint: true });
  const attrs = (p: string) => {
    const x = st(p);
    return [Number(x.mode & 0o7777n).toString(8), Number(x.uid), Number(x.gid), x.mtimeNs];
  };
  assert.equal(attrs('dir').slice(0, 3), ['2750', 1234, 5678]);
  // Deno's bigint stats are in whole milliseconds: the nanoseconds are read with stat(1).
  assert.is((await execa('stat', ['-c', '%.9Y', join(s.dest, 'dir')])).stdout, '1500000000.123456789');
  assert.equal(attrs('dir/ping'), ['4755', 3000000, 4321, 1400000000000000000n]);
  assert.equal(attrs('dir/sgid'), ['2711', 5, 6, 1600000000000000000n]);
  assert.equal(attrs('tmp'), ['1777', own.uid, own.gid, 1300000000000000000n]);
  assert.equal(attrs('tmp/sym').slice(1), [7, 8, 1200000000000000000n]);
  assert.equal(attrs('dev/fifo'), ['4620', own.uid, own.gid, 1600000000000000000n]);
  assert.ok(st('dev/null').isCharacterDevice() && st('dev/loop300').isBlockDevice() && st('dev/fifo').isFIFO());
  // Major and minor as the kernel has them (stat prints them in hex), not through makedev again.
  assert.is((await execa('stat', ['-c', '%t:%T', join(s.dest, 'dev/null'), join(s.dest, 'dev/loop300')])).stdout, '1:3\n7:12c');
  assert.equal(attrs('dev/loop300').slice(0, 3), ['660', own.uid, 6]);
  // The implicit parent of dev/*: root's, 0755.
  assert.equal(attrs('dev').slice(0, 3), ['755', 0, 0]);
  if (!hasPython) return console.log('  not reading xattrs back: python3 is not installed');
  assert.is(await xattr(join(s.dest, 'dir/ping'), 'security.capability'), CAPABILITY.toString('hex'));
  assert.is(await xattr(join(s.dest, 'dir/ping'), 'user.note'), hex('héllo'));
  assert.is(await xattr(join(s.dest, 'dir/ping'), 'trusted.x'), hex('1'));
});

rootTest('a directory\'s times are set after its contents are written', async (s) => {
  await s.unpack(await tarOf([
    { name: 'd/', type: 'directory', mtime: new Date(1_000_000_000_000) },
    { name: 'd/a', body: 'a' },
    { name: 'd/sub/', type: 'directory', mtime: new Date(1_100_000_000_000) },
    { name: 'd/sub/b', body: 'b' },
    { name: 'd/sub/.wh.c' },
    { name: 'd/.wh..wh..opq' },
  ]));
  assert.is(lstatSync(join(s.dest, 'd')).mtimeMs, 1_000_000_000_000);
  assert.is(lstatSync(join(s.dest, 'd/sub')).mtimeMs, 1_100_000_000_000);
});

rootTest('missing parents are root-owned 0755, even under a setgid directory', async (s) => {
  await s.unpack(await tarOf([{ name: 's/', type: 'directory', mode: 0o2775, gid: 1234 }, { name: 's/x/y/f', body: 'f', uid: 42 }]));
  for (const dir of ['s/x', 's/x/y']) {
    const st = lstatSync(join(s.dest, dir));
    assert.equal([st.mode & 0o7777, st.uid, st.gid], [0o755, 0, 0], dir);
  }
  assert.is(lstatSync(join(s.dest, 's/x/y/f')).uid, 42);
});

refused('a layer that sets trusted.overlay.* (overlayfs redirects)', () => Buffer.concat([paxHeader([['SCHILY.xattr.trusted.overlay.redirect', '/etc/shadow']]), entry({ name: 'f' }, Buffer.from('x')), END]),
  () => 'layer entry "f": xattr trusted.overlay.redirect is overlayfs metadata, which a layer must not set');
refused('a layer that sets user.overlay.* (overlayfs with userxattr)', () => Buffer.concat([paxHeader([['SCHILY.xattr.user.overlay.origin', 'x']]), entry({ name: 'd/', type: '5' }), END]),
  () => 'layer entry "d/": xattr user.overlay.origin is overlayfs metadata, which a layer must not set');
refused('a layer that marks a directory opaque by xattr rather than by .wh..wh..opq', () => Buffer.concat([paxHeader([['SCHILY.xattr.trusted.overlay.opaque', 'y']]), entry({ name: 'd/', type: '5' }), END]),
  () => 'layer entry "d/": xattr trusted.overlay.opaque is overlayfs metadata, which a layer must not set');

// --- root: whiteouts ---

rootTest('whiteouts are 0:0 character devices, opaque directories have trusted.overlay.opaque=y', async (s) => {
  const result = await s.unpack(await tarOf([
    { name: '.wh.gone' },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.shadow' },
    { name: 'etc/.wh.shadow' },
    { name: 'var/cache/.wh..wh..opq' },
    { name: 'var/cache/after', body: 'kept' },
    { name: '.wh..wh.plnk/1234.5678', body: 'aufs' },
    { name: 'usr/.wh..wh.aufs' },
  ]));
  assert.equal(result, { ...result, opaque: ['/var/cache'], whiteouts: ['/gone', '/etc/shadow'] });
  assert.equal(s.listing(), [
    `etc d 755 ${own.uid}:${own.gid}`, 'etc/shadow c 0 0:0 0', 'gone c 0 0:0 0', 'var d 755 0:0', 'var/cache d 755 0:0',
    `var/cache/after f 644 ${own.uid}:${own.gid} =kept`,
  ]);
  if (!hasPython) return console.log('  not reading xattrs back: python3 is not installed');
  assert.is(await xattr(join(s.dest, 'var/cache'), 'trusted.overlay.opaque'), hex('y'));
  assert.is(await xattr(join(s.dest, 'etc'), 'trusted.overlay.opaque'), null);
});

rootTest('an opaque marker for the root, and one before the entries of its directory', async (s) => {
  const result = await s.unpack(await tarOf([{ name: '.wh..wh..opq' }, { name: 'd/x', body: 'x' }, { name: 'd/.wh..wh..opq' }, { name: 'd/y', body: 'y' }]));
  assert.equal([result.opaque, result.whiteouts], [['/', '/d'], []]);
  assert.equal(readdirSync(join(s.dest, 'd')).sort(), ['x', 'y']);
});

rootTest('whiteouts and opaque marks inside a directory that a file replaced are gone from the result', async (s) => {
  const result = await s.unpack(await tarOf([{ name: 'd/.wh.x' }, { name: 'd/.wh..wh..opq' }, { name: 'd', body: 'file' }]));
  assert.equal([result.opaque, result.whiteouts], [[], []]);
});

refused('an entry at a path whited out earlier', () => tarOf([{ name: '.wh.x' }, { name: 'x', body: 'back' }]),
  () => 'layer entry "x": "x" is whited out earlier in this layer', asRoot);
refused('an entry under a path whited out earlier', () => tarOf([{ name: '.wh.d' }, { name: 'd/f', body: 'x' }]),
  () => 'layer entry "d/f": under "d", which this layer whites out', asRoot);
refused('a directory under a whiteout', () => tarOf([{ name: 'a/.wh.b' }, { name: 'a/b/c/', type: 'directory' }]),
  () => 'layer entry "a/b/c/": under "a/b", which this layer whites out', asRoot);
refused('a hard link under a whiteout', () => tarOf([{ name: 'f', body: 'x' }, { name: '.wh.d' }, { name: 'd/h', type: 'link', linkname: 'f' }]),
  () => 'layer entry "d/h": under "d", which this layer whites out', asRoot);
refused('an opaque marker under a whiteout', () => tarOf([{ name: '.wh.d' }, { name: 'd/.wh..wh..opq' }]),
  () => 'layer entry "d/.wh..wh..opq": "d" is whited out earlier in this layer', asRoot);
refused('a whiteout of a file this layer created', () => tarOf([{ name: 'f', body: 'x' }, { name: '.wh.f' }]),
  () => 'layer entry ".wh.f": whites out "f", which this layer itself created', asRoot);
refused('a whiteout of a directory this layer created implicitly', () => tarOf([{ name: 'd/f', body: 'x' }, { name: '.wh.d' }]),
  () => 'layer entry ".wh.d": whites out "d", which this layer itself created', asRoot);
refused('a whiteout under a whiteout', () => tarOf([{ name: '.wh.d' }, { name: 'd/.wh.e' }]),
  () => 'layer entry "d/.wh.e": under "d", which this layer whites out', asRoot);
refused('a whiteout of nothing', () => tarOf([{ name: 'etc/.wh.' }]), () => 'layer entry "etc/.wh.": whiteout of "", which names no file');
refused('a whiteout of ".."', () => tarOf([{ name: 'etc/.wh...' }]), () => 'layer entry "etc/.wh...": whiteout of "..", which names no file');

// --- root: a realistic layer, round trip ---

const BUSYBOX = '/work/main/images/busybox/rootfs';

rootTest('files of the busybox image, packed with tar-stream, come back identical', async (s) => {
  const paths = ['bin', 'bin/busybox', 'bin/sh', 'bin/ls', 'etc', 'etc/passwd', 'etc/group', 'linuxrc', 'root', 'tmp', 'usr', 'usr/bin', 'usr/bin/awk'];
  const entries: PackEntry[] = paths.map((path) => {
    const st = lstatSync(join(BUSYBOX, path));
    const header = { name: path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) return { ...header, type: 'directory' };
    if (st.isSymbolicLink()) return { ...header, type: 'symlink', linkname: readlinkSync(join(BUSYBOX, path)) };
    return { ...header, body: readFileSync(join(BUSYBOX, path)) };
  });
  // What a real image adds: another owner, a setuid binary with a capability, a hard link.
  entries.push({ name: 'bin/su', mode: 0o4755, uid: 0, gid: 0, body: readFileSync(join(BUSYBOX, 'bin/busybox')), pax: { 'SCHILY.xattr.user.origin': 'busybox' } });
  entries.push({ name: 'home/app/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 });
  entries.push({ name: 'home/app/.profile', mode: 0o600, uid: 1000, gid: 1000, body: 'export PS1=app\n' });
  entries.push({ name: 'bin/busybox-link', type: 'link', linkname: 'bin/busybox' });
  const tar = await tarOf(entries);
  const result = await s.unpack(gzipSync(tar), { mediaType: OCI_GZIP });
  assert.is(result.diffID, sha(tar));
  for (const path of paths) {
    const [a, b] = [lstatSync(join(BUSYBOX, path)), lstatSync(join(s.dest, path))];
    assert.equal([b.mode, b.uid, b.gid, Math.floor(b.mtimeMs / 1000)], [a.mode, a.uid, a.gid, Math.floor(a.mtimeMs / 1000)], path);
    if (a.isFile()) assert.ok(readFileSync(join(s.dest, path)).equals(readFileSync(join(BUSYBOX, path))), path);
    if (a.isSymbolicLink()) assert.is(readlinkSync(join(s.dest, path)), readlinkSync(join(BUSYBOX, path)));
  }
  assert.is(lstatSync(join(s.dest, 'bin/su')).mode & 0o7777, 0o4755);
  assert.equal([lstatSync(join(s.dest, 'home/app/.profile')).uid, lstatSync(join(s.dest, 'home/app')).mode & 0o777], [1000, 0o700]);
  assert.is(lstatSync(join(s.dest, 'bin/busybox-link')).ino, lstatSync(join(s.dest, 'bin/busybox')).ino);
  assert.is(result.size, paths.reduce((n, p) => n + (lstatSync(join(BUSYBOX, p)).isFile() ? lstatSync(join(BUSYBOX, p)).size : 0), 0) + lstatSync(join(BUSYBOX, 'bin/busybox')).size + 15);
  if (hasPython) assert.is(await xattr(join(s.dest, 'bin/su'), 'user.origin'), hex('busybox'));
});

// --- root: overlayfs reads the markers as it should ---

const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8');

rootTest('overlayfs hides whited-out files and the lower contents of opaque directories', async (s) => {
  const lower = new Scene();
  try {
    await lower.unpack(await tarOf([
      { name: 'keep', body: 'keep' },
      { name: 'gone', body: 'gone' },
      { name: 'etc/shadow', body: 'secret' },
      { name: 'etc/hosts', body: 'hosts' },
      { name: 'cache/old', body: 'old' },
      { name: 'cache/older/x', body: 'x' },
    ]));
    const upper = await s.unpack(await tarOf([{ name: '.wh.gone' }, { name: 'etc/.wh.shadow' }, { name: 'cache/.wh..wh..opq' }, { name: 'cache/new', body: 'new' }]));
    assert.equal([upper.whiteouts, upper.opaque], [['/gone', '/etc/shadow'], ['/cache']]);
    const mnt = join(s.dir, 'mnt');
    const before = mounts();
    // A private mount namespace of a child: nothing reaches the host's mount table.
    const { stdout } = await execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
      'mkdir "$3" && mount -t overlay overlay -o "lowerdir=$1:$2" "$3" && cd "$3" && ls -A . etc cache && cat keep cache/new && cd / && umount "$3"',
      'sh', s.dest, lower.dest, mnt]);
    assert.is(stdout, ['.:', 'cache', 'etc', 'keep', '', 'cache:', 'new', '', 'etc:', 'hosts', 'keepnew'].join('\n'));
    assert.is(mounts(), before);
    assert.ok(!existsSync(join(mnt, 'keep')));
  } finally {
    lower.remove();
  }
});

test.run();
