import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LayerError } from '../../../lib/image/layer-error.ts';
import { parseTime, type TarEntry, tarEntries } from '../../../lib/image/tar-entries.ts';
import { block, checksummed, chunked, END, entry, gnuLong, own, paxHeader, tarOf } from '../../helpers/layers.ts';

type Seen = Omit<TarEntry, 'body'> & { content: string };

async function entries(tar: Uint8Array, chunk = 64 * 1024): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const { body, ...e } of tarEntries(chunked(tar, chunk), () => 'not a tar')) {
    const parts: Uint8Array[] = [];
    for await (const part of body) parts.push(part);
    seen.push({ ...e, content: Buffer.concat(parts).toString() });
  }
  return seen;
}

async function refusal(tar: Uint8Array): Promise<string> {
  try {
    await entries(tar);
  } catch (err) {
    assert.instance(err, LayerError);
    return (err as Error).message;
  }
  throw new Error('expected a LayerError');
}

// vfs_cap_data, revision 2, with cap_setuid|cap_net_bind_service: bytes >= 0x80 that are not UTF-8.
const CAPABILITY = Uint8Array.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

for (const chunk of [1, 7, 511, 512, 513, 65536]) {
  test(`PAX xattr values are kept as bytes, in chunks of ${chunk}`, async () => {
    const tar = Buffer.concat([
      paxHeader([['SCHILY.xattr.security.capability', CAPABILITY], ['SCHILY.xattr.user.note', 'héllo'], ['comment', 'x']]),
      entry({ name: 'bin/ping', mode: 0o755 }, Buffer.from('ELF')),
      entry({ name: 'after' }, Buffer.from('2')),
      END,
    ]);
    const [ping, after] = await entries(tar, chunk);
    assert.equal(ping!.xattrs.map(([k, v]) => [k, [...v]]), [['security.capability', [...CAPABILITY]], ['user.note', [...Buffer.from('héllo')]]]);
    assert.is(ping!.content, 'ELF');
    assert.is(ping!.mode, 0o755);
    assert.equal(after!.xattrs, []);
    assert.is(after!.content, '2');
  });
}

test('PAX uid, gid, mtime and atime override the header; the header is used otherwise', async () => {
  const tar = Buffer.concat([
    paxHeader([['uid', '3000000'], ['gid', '4000000'], ['mtime', '1234567890.123456789'], ['atime', '1234567891.5']]),
    entry({ name: 'a', uid: 7, gid: 8, mtime: 99 }),
    paxHeader([['mtime', '-1.25']]),
    entry({ name: 'b', uid: 7, gid: 8, mtime: 99 }),
    entry({ name: 'c', uid: 7, gid: 8, mtime: 99 }),
    END,
  ]);
  const [a, b, c] = await entries(tar);
  assert.equal([a!.uid, a!.gid, a!.mtime, a!.atime], [3000000, 4000000, [1234567890, 123456789], [1234567891, 500000000]]);
  assert.equal([b!.uid, b!.mtime, b!.atime], [7, [-2, 750000000], null]);
  assert.equal([c!.uid, c!.gid, c!.mtime], [7, 8, [99, 0]]);
});

test('parseTime', () => {
  assert.equal(parseTime('0'), [0, 0]);
  assert.equal(parseTime('12.000000001'), [12, 1]);
  assert.equal(parseTime('12.1234567899'), [12, 123456789]);
  assert.equal(parseTime('-3'), [-3, 0]);
  assert.equal(parseTime('-3.5'), [-4, 500000000]);
  assert.is(parseTime('1e3'), null);
  assert.is(parseTime(''), null);
  assert.is(parseTime('.5'), null);
  assert.is(parseTime('99999999999999999999'), null);
});

test('a 300-character path and a 200-character link target (PAX, as tar-stream writes them)', async () => {
  const long = `${'d'.repeat(99)}/${'e'.repeat(99)}/${'f'.repeat(100)}`;
  const target = `/${'t'.repeat(199)}`;
  const [file, link] = await entries(await tarOf([{ name: long, body: 'x' }, { name: 'l', type: 'symlink', linkname: target }]));
  assert.is(file!.name, long);
  assert.is(link!.linkname, target);
  assert.is(link!.type, 'symlink');
});

test('GNU long names and long links (L and K blocks)', async () => {
  const long = 'g/'.repeat(150) + 'file';
  const tar = Buffer.concat([
    gnuLong('L', long),
    entry({ name: long.slice(0, 99) }, Buffer.from('gnu')),
    gnuLong('K', 'k'.repeat(200)),
    gnuLong('L', 'link-with-a-long-name'.repeat(6)),
    entry({ name: 'short', type: '2', linkname: 'k'.repeat(99) }),
    END,
  ]);
  const [file, link] = await entries(tar);
  assert.is(file!.name, long);
  assert.is(file!.content, 'gnu');
  assert.is(link!.name, 'link-with-a-long-name'.repeat(6));
  assert.is(link!.linkname, 'k'.repeat(200));
});

test('an empty PAX path is an empty name (as Go reads it), not the ustar name', async () => {
  const [e] = await entries(Buffer.concat([paxHeader([['path', '']]), entry({ name: 'etc/passwd' }), END]));
  assert.is(e!.name, '');
});

test('a PAX path with a NUL byte is kept for the name check to refuse', async () => {
  const [e] = await entries(Buffer.concat([paxHeader([['path', 'a\0b']]), entry({ name: 'ab' }), END]));
  assert.is(e!.name, 'a\0b');
});

test('types tar-stream does not know are named by their typeflag', async () => {
  const tar = Buffer.concat([entry({ name: 's', type: 'S' }), entry({ name: 'q', type: 'Q' }), entry({ name: 'c', type: '7' }), END]);
  const seen = await entries(tar);
  assert.equal(seen.map((e) => [e.type, e.typeName]), [
    [null, 'GNU sparse file (type S)'],
    [null, 'entry of unknown type "Q"'],
    [null, 'contiguous file (type 7)'],
  ]);
});

test('each supported type', async () => {
  const tar = await tarOf([
    { name: 'f', body: 'x' },
    { name: 'd', type: 'directory' },
    { name: 's', type: 'symlink', linkname: 'f' },
    { name: 'h', type: 'link', linkname: 'f' },
    { name: 'c', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'b', type: 'block-device', devmajor: 7, devminor: 300 },
    { name: 'p', type: 'fifo' },
  ]);
  const seen = await entries(tar);
  assert.equal(seen.map((e) => [e.name, e.type, e.typeName, e.devmajor, e.devminor, e.uid]), [
    ['f', 'file', 'regular file', 0, 0, own.uid],
    ['d', 'directory', 'directory', 0, 0, own.uid],
    ['s', 'symlink', 'symlink', 0, 0, own.uid],
    ['h', 'link', 'hard link', 0, 0, own.uid],
    ['c', 'character-device', 'character device', 1, 3, own.uid],
    ['b', 'block-device', 'block device', 7, 300, own.uid],
    ['p', 'fifo', 'FIFO', 0, 0, own.uid],
  ]);
});

const REFUSED: [string, () => Uint8Array, string][] = [
  ['a GNU long name and a PAX path on one entry', () => Buffer.concat([gnuLong('L', 'gnu-name'), paxHeader([['path', 'pax-name']]), entry({ name: 'x' }), END]),
    'layer entry at byte 0 has both a GNU long name and a PAX path'],
  ['a GNU long link and a PAX linkpath', () => Buffer.concat([paxHeader([['linkpath', 'a']]), gnuLong('K', 'b'), entry({ name: 'x', type: '2' }), END]),
    'layer entry at byte 0 has both a GNU long link and a PAX linkpath'],
  ['a PAX global header that sets path', () => Buffer.concat([paxHeader([['path', 'evil']], 'g'), paxHeader([['mtime', '1']]), entry({ name: 'x' }), END]),
    'layer has a PAX global header setting path (byte 0), which tar readers apply differently'],
  ['a PAX global header that sets size', () => Buffer.concat([entry({ name: 'a' }), paxHeader([['size', '0']], 'g'), entry({ name: 'x' }), END]),
    'layer has a PAX global header setting size (byte 512), which tar readers apply differently'],
  ['an entry after the end-of-archive marker', () => Buffer.concat([entry({ name: 'a' }), END, entry({ name: 'hidden' }), END]),
    'layer has entries after its end-of-archive marker (byte 512)'],
  ['a symlink with contents', () => Buffer.concat([entry({ name: 's', type: '2', linkname: 't', size: 5 }, Buffer.from('hello')), END]),
    'layer entry "s": symlink with 5 bytes of content'],
  ['a directory with contents (Go would read them, tar-stream parses them as headers)', () => Buffer.concat([block({ name: 'd/', type: '5', size: 512 }), entry({ name: 'smuggled' }), END]),
    'layer entry "d/": directory with 512 bytes of content'],
  ['a hard link with contents', () => Buffer.concat([entry({ name: 'h', type: '1', linkname: 'f', size: 3 }, Buffer.from('abc')), END]),
    'layer entry "h": hard link with 3 bytes of content'],
  ['a malformed PAX record length', () => Buffer.concat([paxHeader([['path', 'x']]).fill(0x38, 512, 513), entry({ name: 'x' }), END]),
    'layer has a malformed PAX record at byte 0'],
  ['a PAX record without "="', () => Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }, Buffer.from('9 abcdef\n')), entry({ name: 'x' }), END]),
    'layer has a malformed PAX record at byte 0'],
  ['NUL padding after PAX records', () => Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }, Buffer.from('9 uid=12\n\0\0\0')), entry({ name: 'x' }), END]),
    'layer has a malformed PAX record at byte 0'],
  ['a PAX size tar-stream reads as a number and Go refuses', () => Buffer.concat([paxHeader([['size', '3abc']]), entry({ name: 'x' }, Buffer.from('abc')), END]),
    'layer entry "x": invalid PAX size "3abc"'],
  ['a PAX uid that is not a number', () => Buffer.concat([paxHeader([['uid', '-1']]), entry({ name: 'x' }), END]),
    'layer entry "x": invalid PAX uid "-1"'],
  ['a uid beyond 32 bits', () => Buffer.concat([paxHeader([['uid', '4294967295']]), entry({ name: 'x' }), END]),
    'layer entry "x": invalid uid in its header'],
  ['a PAX mtime that is not a time', () => Buffer.concat([paxHeader([['mtime', 'yesterday']]), entry({ name: 'x' }), END]),
    'layer entry "x": invalid PAX mtime "yesterday"'],
  ['a GNU sparse file in PAX form', () => Buffer.concat([paxHeader([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0']]), entry({ name: 'x' }), END]),
    'layer entry "x": GNU sparse file (PAX GNU.sparse) is not supported'],
  ['an old GNU long name (type N), which Go does not know', () => Buffer.concat([entry({ name: 'n', type: 'N' }, Buffer.from('name\0')), entry({ name: 'x' }), END]),
    'layer has an unexpected extension header (type N) at byte 0'],
  ['a stream that is not a tar', () => Buffer.from('{"this": "is json, not a layer"}'.repeat(40)), 'not a tar'],
  ['a bad checksum after the first entry', () => {
    const bad = block({ name: 'b' });
    bad[0] = 0x63;
    return Buffer.concat([entry({ name: 'a' }, Buffer.from('1')), bad, END]);
  }, 'layer has an invalid tar header at byte 1024'],
  ['a stream that ends inside an entry', () => entry({ name: 'a' }, Buffer.alloc(5000)).subarray(0, 3000), 'layer is truncated: its tar stream ends inside an entry'],
  ['an extension header over tar-stream\'s 4 MiB', () => Buffer.concat([paxHeader([['comment', 'x'.repeat(5 << 20)]]), entry({ name: 'x' }), END]),
    'layer has an extension header over 4 MiB at byte 0'],
  ['more than 16 MiB of extension headers before one entry', () => {
    const big = paxHeader([['comment', 'x'.repeat(3 << 20)]]);
    return Buffer.concat([big, big, big, big, big, big, entry({ name: 'x' }), END]);
  }, 'layer has over 16777216 bytes of extension headers at byte 0'],
];
for (const [what, tar, message] of REFUSED) {
  test(`refused: ${what}`, async () => {
    assert.is(await refusal(tar()), message);
  });
}

test('a tar without end-of-archive blocks ends cleanly at a header boundary, as Go reads it', async () => {
  const seen = await entries(entry({ name: 'a' }, Buffer.from('1')));
  assert.equal(seen.map((e) => e.name), ['a']);
});

test('zero padding after the end marker (tar pads to 10 KiB records) is fine', async () => {
  const seen = await entries(Buffer.concat([entry({ name: 'a' }), Buffer.alloc(10240)]));
  assert.equal(seen.map((e) => e.name), ['a']);
});

test('a checksum field-only block is an end block too (tar-stream treats it as empty)', async () => {
  const odd = checksummed(Buffer.alloc(512));
  assert.is(await refusal(Buffer.concat([entry({ name: 'a' }), odd, entry({ name: 'b' }), END])), 'layer has entries after its end-of-archive marker (byte 512)');
});

test('bodies left unread are skipped', async () => {
  const tar = await tarOf([{ name: 'a', body: 'x'.repeat(100000) }, { name: 'b', body: 'second' }]);
  const names: string[] = [];
  let last = '';
  for await (const e of tarEntries(chunked(tar, 4096), () => 'not a tar')) {
    names.push(e.name);
    if (e.name === 'b') for await (const part of e.body) last += Buffer.from(part).toString();
  }
  assert.equal(names, ['a', 'b']);
  assert.is(last, 'second');
});

test.run();
