// Writes tar archives byte for byte, for test images and hostile layers.
//
// Not tar-stream's pack, which the runtime's parser comes from: its PAX
// encoder takes string values and writes them as UTF-8, so an xattr value
// with a byte >= 0x80 (a security.capability blob granting cap_setuid,
// say) cannot be written, and it cannot write GNU long names at all. Real
// layers carry both, so the unpacker must be tested against both, and
// against names no library would write (`../x`, `/etc/x`). The format is
// POSIX ustar (prefix split for long paths when it fits), PAX extended
// headers when it does not or when asked, GNU 'L'/'K' records when asked.

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  /** Written exactly as given (a directory gets its trailing `/`), no normalising. */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** The hard link's or symlink's target. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records beyond those the writer adds itself, e.g. `SCHILY.xattr.user.x`; values are raw bytes. */
  pax?: Record<string, string | Uint8Array>;
  /** How a name or link name too long for ustar is written: PAX records (the default, as Go writes them) or GNU 'L'/'K' entries (as GNU tar does). */
  longNames?: 'pax' | 'gnu';
}

export interface TarEntry {
  header: TarHeader;
  body?: Uint8Array;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const encoder = new TextEncoder();
const bytes = (s: string | Uint8Array) => (typeof s === 'string' ? encoder.encode(s) : s);

/** The whole archive: every entry, then the two zero blocks that end it. */
export function tarArchive(entries: TarEntry[]): Buffer {
  return Buffer.concat([...entries.flatMap((e) => tarEntryBlocks(e.header, e.body)), Buffer.alloc(2 * BLOCK)]);
}

/** One entry's blocks: its extended records if any, its header, its body padded to a block. */
export function tarEntryBlocks(header: TarHeader, body: Uint8Array = new Uint8Array(0)): Buffer[] {
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const linkname = header.linkname ?? '';
  const blocks: Buffer[] = [];
  const pax: [string, Uint8Array][] = Object.entries(header.pax ?? {}).map(([k, v]) => [k, bytes(v)]);
  let ustar = ustarName(name);
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  if (header.longNames === 'gnu') {
    if (!ustar) blocks.push(...gnuLongRecord('L', name, header.mtime));
    if (!linkFits) blocks.push(...gnuLongRecord('K', linkname, header.mtime));
  } else {
    if (!ustar) pax.unshift(['path', bytes(name)]);
    if (!linkFits) pax.push(['linkpath', bytes(linkname)]);
  }
  // Past the long records, the header's own fields only need to be valid:
  // readers take the name from the record.
  ustar ??= { name: asciiHead(name, 100), prefix: '' };
  if (pax.length) blocks.push(...paxRecord(pax, name, header.mtime));
  const size = header.type === 'file' ? body.length : 0;
  blocks.push(
    headerBlock({
      name: ustar.name,
      prefix: ustar.prefix,
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      size,
      mtime: header.mtime,
      typeflag: TYPEFLAG[header.type],
      linkname: linkFits ? linkname : asciiHead(linkname, 100),
      devmajor: header.devmajor ?? 0,
      devminor: header.devminor ?? 0,
      gnu: header.longNames === 'gnu',
    }),
  );
  if (size) blocks.push(padded(body));
  return blocks;
}

/** PAX records `LEN KEY=VALUE\n`, LEN counting its own digits, in bytes. */
export function paxRecords(records: [string, Uint8Array][]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
      let len = rest.length + 1;
      while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
      return Buffer.concat([Buffer.from(String(len)), rest]);
    }),
  );
}

function paxRecord(records: [string, Uint8Array][], name: string, mtime: number): Buffer[] {
  const data = paxRecords(records);
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  return [
    headerBlock({ ...plain(asciiHead(`PaxHeaders.0/${base}`, 100), mtime), size: data.length, typeflag: 'x' }),
    padded(data),
  ];
}

function gnuLongRecord(typeflag: 'L' | 'K', value: string, mtime: number): Buffer[] {
  const data = Buffer.concat([Buffer.from(value), Buffer.alloc(1)]);
  return [headerBlock({ ...plain('././@LongLink', mtime), size: data.length, typeflag, gnu: true }), padded(data)];
}

function plain(name: string, mtime: number) {
  return { name, prefix: '', mode: 0o644, uid: 0, gid: 0, mtime, linkname: '', devmajor: 0, devminor: 0, gnu: false };
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** GNU's magic ("ustar  \0") instead of POSIX's ("ustar\0" "00"), as GNU tar writes it with its long names. */
  gnu: boolean;
}

function headerBlock(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, 'latin1');
  octal(b, 100, 8, f.mode & 0o7777777);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.write(f.typeflag, 156, 1, 'latin1');
  b.write(f.linkname, 157, 100, 'latin1');
  b.write(f.gnu ? 'ustar  \0' : 'ustar\u000000', 257, 8, 'latin1');
  // uname and gname stay empty: GNU tar, extracting as root, would
  // otherwise trust a name over the numeric ids.
  octal(b, 329, 8, f.devmajor);
  octal(b, 337, 8, f.devminor);
  b.write(f.prefix, 345, 155, 'latin1');
  // The checksum is summed with its own field read as eight spaces.
  b.fill(' ', 148, 156);
  const sum = b.reduce((n, x) => n + x, 0);
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar header: ${value} does not fit in ${width - 1} octal digits`);
  b.write(`${digits.padStart(width - 1, '0')}\0`, offset, width, 'latin1');
}

/** ustar's name and prefix fields for NAME, or null when they cannot hold it; split where Go's archive/tar splits (the last `/` that leaves a prefix of at most 155 bytes). */
function ustarName(name: string): { name: string; prefix: string } | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return { name, prefix: '' };
  const cut = name.lastIndexOf('/', Math.min(name.length - 2, 155));
  const rest = name.slice(cut + 1);
  if (cut <= 0 || rest.length > 100 || rest.length === 0) return null;
  return { name: rest, prefix: name.slice(0, cut) };
}

const isAscii = (s: string) => /^[\x01-\x7f]*$/.test(s);
// Truncated at the end, as Go and GNU tar fill the fields a long record overrides.
const asciiHead = (s: string, max: number) => s.replace(/[^\x01-\x7f]/g, '_').slice(0, max);

function padded(data: Uint8Array): Buffer {
  const rest = data.length % BLOCK;
  return rest ? Buffer.concat([data, Buffer.alloc(BLOCK - rest)]) : Buffer.from(data);
}
