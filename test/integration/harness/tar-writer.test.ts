// The tar writer of the test images, read back by two parsers that are not
// ours: tar-stream's (the runtime's) and GNU tar.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { extract, type Header } from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paxRecords, tarArchive, type TarEntry } from '../../helpers/tar-writer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-tar-writer-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1704067200 };
const LONG_DIRS = `${'d'.repeat(60)}/${'e'.repeat(60)}/file`;
const LONG_NAME = `x/${'p'.repeat(130)}`;
const LONG_GNU = `x/${'g'.repeat(130)}`;
const LONG_TARGET = `/${'t'.repeat(120)}`;
const BINARY = Uint8Array.from([0x01, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x00, 0x00, 0xff, 0x80]);

const ENTRIES: TarEntry[] = [
  { header: { ...base, name: 'dir', type: 'directory', mode: 0o755 } },
  { header: { ...base, name: 'dir/file', type: 'file', mode: 0o4755, uid: 1000, gid: 2000, mtime: 1000000000 }, body: Buffer.from('hello\n') },
  { header: { ...base, name: 'dir/link', type: 'symlink', mode: 0o777, linkname: '../target' } },
  { header: { ...base, name: 'dir/hard', type: 'link', linkname: 'dir/file' } },
  { header: { ...base, name: 'dir/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
  { header: { ...base, name: 'dir/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0 } },
  { header: { ...base, name: 'dir/fifo', type: 'fifo' } },
  { header: { ...base, name: LONG_DIRS, type: 'file' }, body: Buffer.from('prefix') },
  { header: { ...base, name: LONG_NAME, type: 'file' }, body: Buffer.from('pax') },
  { header: { ...base, name: LONG_GNU, type: 'file', longNames: 'gnu' }, body: Buffer.from('gnu') },
  { header: { ...base, name: 'x/long-link', type: 'symlink', linkname: LONG_TARGET } },
  { header: { ...base, name: 'x/xattrs', type: 'file', pax: { 'SCHILY.xattr.user.test': 'hello xattr', 'SCHILY.xattr.security.capability': BINARY } }, body: Buffer.from('x') },
  { header: { ...base, name: '../escape', type: 'file' }, body: Buffer.from('raw names stay as given') },
];

async function parse(archive: Buffer): Promise<{ header: Header; body: string }[]> {
  const out: { header: Header; body: string }[] = [];
  const ex = extract();
  Readable.from([archive]).pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push({ header: entry.header, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

test('tar-stream reads back every entry: names, types, modes, owners, times, links, devices, bodies', async () => {
  const got = await parse(tarArchive(ENTRIES));
  assert.equal(got.map((e) => [e.header.name, e.header.type]), [
    ['dir/', 'directory'],
    ['dir/file', 'file'],
    ['dir/link', 'symlink'],
    ['dir/hard', 'link'],
    ['dir/null', 'character-device'],
    ['dir/sda', 'block-device'],
    ['dir/fifo', 'fifo'],
    [LONG_DIRS, 'file'],
    [LONG_NAME, 'file'],
    [LONG_GNU, 'file'],
    ['x/long-link', 'symlink'],
    ['x/xattrs', 'file'],
    ['../escape', 'file'],
  ]);
  const file = got[1]!.header;
  assert.equal([file.mode, file.uid, file.gid, file.mtime?.getTime(), file.size, got[1]!.body], [0o4755, 1000, 2000, 1000000000_000, 6, 'hello\n']);
  assert.is(got[2]!.header.linkname, '../target');
  assert.is(got[3]!.header.linkname, 'dir/file');
  assert.equal([got[4]!.header.devmajor, got[4]!.header.devminor], [1, 3]);
  assert.equal([got[5]!.header.devmajor, got[5]!.header.devminor], [8, 0]);
  assert.equal(got.slice(7, 10).map((e) => e.body), ['prefix', 'pax', 'gnu']);
  assert.is(got[10]!.header.linkname, LONG_TARGET);
  assert.is((got[11]!.header.pax as Record<string, string>)['SCHILY.xattr.user.test'], 'hello xattr');
});

test('a binary xattr value is written byte for byte (tar-stream would write it as UTF-8)', () => {
  const archive = tarArchive([ENTRIES[11]!]);
  const record = paxRecords([['SCHILY.xattr.security.capability', BINARY]]);
  assert.ok(archive.includes(record), 'the PAX record with the raw bytes is in the archive');
  assert.is(record.toString('latin1'), `47 SCHILY.xattr.security.capability=${Buffer.from(BINARY).toString('latin1')}\n`);
});

test('PAX record lengths count their own digits, across a digit boundary', () => {
  // ' k=' + value + '\n' is 4 + v bytes; with 5 bytes of value the record is 9 + 1 digit = 10, which has 2 digits: 11.
  assert.is(paxRecords([['k', Buffer.from('vvvvv')]]).toString(), '11 k=vvvvv\n');
  assert.is(paxRecords([['k', Buffer.from('vvvv')]]).toString(), '9 k=vvvv\n');
  for (let n = 80; n < 110; n++) {
    const r = paxRecords([['key', Buffer.alloc(n, 0x61)]]);
    assert.is(Number(r.toString().split(' ')[0]), r.length, `value of ${n} bytes`);
  }
});

test('long names: ustar prefix when it fits, a PAX path when not, GNU\'s ././@LongLink when asked', () => {
  const archive = tarArchive(ENTRIES.slice(7, 10));
  const block = (i: number) => archive.subarray(i * 512, (i + 1) * 512);
  const field = (i: number, from: number, len: number) => block(i).subarray(from, from + len).toString('latin1').replace(/\0.*$/s, '');
  const typeflag = (i: number) => String.fromCharCode(block(i)[156]!);
  // 0: ustar header (name + prefix), 1: its body
  assert.equal([field(0, 0, 100), field(0, 345, 155), typeflag(0)], ['file', `${'d'.repeat(60)}/${'e'.repeat(60)}`, '0']);
  // 2: PAX header, 3: its records, 4: the entry's header, 5: its body
  assert.equal([typeflag(2), field(2, 0, 13)], ['x', 'PaxHeaders.0/']);
  assert.is(field(3, 0, 512), `${3 + 6 + LONG_NAME.length + 1} path=${LONG_NAME}\n`);
  assert.equal([typeflag(4), field(4, 257, 6)], ['0', 'ustar']);
  // 6: GNU L header, 7: the name, NUL-terminated, 8: the entry's header in GNU's format
  assert.equal([typeflag(6), field(6, 0, 100), field(6, 257, 8)], ['L', '././@LongLink', 'ustar  ']);
  assert.is(block(7).subarray(0, LONG_GNU.length + 1).toString('latin1'), `${LONG_GNU}\0`);
  assert.equal([typeflag(8), field(8, 257, 8)], ['0', 'ustar  ']);
});

test('GNU tar lists the archive as tar-stream does (checksums, links, devices, long names)', async () => {
  const file = join(tmp, 'all.tar');
  writeFileSync(file, tarArchive(ENTRIES));
  const r = await execa('tar', ['--numeric-owner', '-tvf', file], { reject: false, env: { TZ: 'UTC', LC_ALL: 'C' } });
  assert.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.is(lines.length, ENTRIES.length);
  assert.match(lines[1]!, /^-rwsr-xr-x 1000\/2000 +6 2001-09-09 01:46 dir\/file$/);
  assert.match(lines[2]!, /^lrwxrwxrwx 0\/0 +0 2024-01-01 00:00 dir\/link -> \.\.\/target$/);
  assert.match(lines[3]!, /^hrw-r--r-- 0\/0 +0 2024-01-01 00:00 dir\/hard link to dir\/file$/);
  assert.match(lines[4]!, /^crw-rw-rw- 0\/0 +1,3 2024-01-01 00:00 dir\/null$/);
  assert.match(lines[6]!, /^prw-r--r-- .* dir\/fifo$/);
  assert.ok(lines[7]!.endsWith(` ${LONG_DIRS}`), lines[7]);
  assert.ok(lines[8]!.endsWith(` ${LONG_NAME}`), lines[8]);
  assert.ok(lines[9]!.endsWith(` ${LONG_GNU}`), lines[9]);
  assert.ok(lines[10]!.endsWith(` x/long-link -> ${LONG_TARGET}`), lines[10]);
  assert.ok(lines[12]!.endsWith(' ../escape'), lines[12]);
});

test.run();
