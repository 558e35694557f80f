// The entries of a tar stream, parsed by tar-stream, with what tar-stream
// leaves out read from the raw bytes of each entry's extension headers:
//
// - PAX values as bytes. tar-stream decodes them as UTF-8, which mangles a
//   binary `SCHILY.xattr.security.capability` (any byte >= 0x80 that is
//   not valid UTF-8 becomes U+FFFD). PAX uid, gid, mtime and atime, which
//   it does not apply at all, come from the same records.
// - The raw typeflag, so a refused type is named (`S` for GNU sparse).
// - Where tar readers disagree, the layer is refused: a layer that
//   unpacks one way here and another in containerd (Go's archive/tar) is
//   how files get past a scanner. So: a GNU long name and a PAX path on
//   one entry (Go takes the first, tar-stream the second); PAX global
//   headers that set path, linkpath or size (tar-stream applies them, Go
//   ignores them); an entry after the end-of-archive marker (Go stops
//   there, tar-stream reads on); a non-file entry with a size (Go reads no
//   body for it, tar-stream does); malformed PAX records (Go refuses them,
//   tar-stream stops reading them).
//
// tar-stream says where each entry's header starts (`offset`); the bytes
// from the end of the previous entry up to it are its extension headers,
// so only those are held (RawWindow), never file contents.
import { extract, type Header } from 'tar-stream';
import type { Timespec } from '../sys/libc.ts';
import { entryError, LayerError } from './layer-error.ts';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

export interface TarEntry {
  /** The name as the archive gives it (for messages): not yet checked. */
  name: string;
  linkname: string;
  /** null: a type minipod does not unpack, which `typeName` names. */
  type: EntryType | null;
  typeName: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Timespec;
  atime: Timespec | null;
  devmajor: number;
  devminor: number;
  xattrs: [name: string, value: Uint8Array][];
  /** The contents; what is not read is skipped when the next entry is asked for. */
  body: AsyncIterable<Uint8Array>;
}

const BLOCK = 512;
/** tar-stream's own limit on one extension header is 4 MiB; several may precede an entry. */
const MAX_EXTENSION_BYTES = 16 * 1024 * 1024;

const TYPE_NAMES: Record<EntryType, string> = {
  file: 'regular file', link: 'hard link', symlink: 'symlink', 'character-device': 'character device',
  'block-device': 'block device', directory: 'directory', fifo: 'FIFO',
};
/** By typeflag, the types tar-stream passes on that minipod refuses, as containerd does. */
const UNSUPPORTED: Record<string, string> = {
  '7': 'contiguous file (type 7)', S: 'GNU sparse file (type S)', V: 'GNU volume header (type V)',
  M: 'GNU multi-volume continuation (type M)', D: 'GNU dumpdir (type D)',
};
/** Types that have no contents: Go's archive/tar reads no body for them whatever their size says. */
const HEADER_ONLY: ReadonlySet<string> = new Set(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/**
 * The entries of the tar in `chunks`. `notATar` is the message for a
 * stream whose first header is not a tar header.
 */
export async function* tarEntries(chunks: AsyncIterable<Uint8Array>, notATar: () => string): AsyncGenerator<TarEntry> {
  const parser = extract();
  const window = new RawWindow();
  // The parser's own error: a body that fails says only that it was destroyed.
  let failure: unknown = null;
  parser.on('error', (err: unknown) => (failure = err));
  const closed = new Promise<void>((resolve) => parser.once('close', () => resolve()));
  const feeding = feed(chunks, parser, window);
  // Where the next entry's extension headers (or its header) begin.
  let next = 0;
  const contents = async function* (stream: AsyncIterable<Uint8Array>) {
    try {
      yield* stream;
    } catch (err) {
      parser.destroy();
      await closed;
      throw parseError(failure ?? err, next, notATar);
    }
  };
  try {
    for await (const stream of parser) {
      const raw = window.take(next, stream.offset + BLOCK);
      const entry = decodeEntry(raw, next, stream.header);
      next = stream.offset + BLOCK + (HEADER_ONLY.has(entry.type ?? '') ? 0 : roundUp(entry.size));
      window.keepFrom(next);
      const body = contents(stream as AsyncIterable<Uint8Array>);
      yield { ...entry, body };
      for await (const _ of body); // whatever the consumer left unread
    }
  } catch (err) {
    throw parseError(err, next, notATar);
  } finally {
    parser.destroy();
    await feeding;
  }
}

type Parser = ReturnType<typeof extract>;

async function feed(chunks: AsyncIterable<Uint8Array>, parser: Parser, window: RawWindow): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (parser.destroyed) return;
      window.push(chunk);
      if (!parser.write(chunk)) await drained(parser);
    }
    parser.end(null);
  } catch (err) {
    parser.destroy(err as Error);
  }
}

function drained(parser: Parser): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}

function parseError(err: unknown, at: number, notATar: () => string): LayerError {
  if (err instanceof LayerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'Unexpected end of data') return new LayerError('layer is truncated: its tar stream ends inside an entry');
  if (message.startsWith('Invalid tar header') || message === 'Invalid header') {
    return new LayerError(at === 0 ? notATar() : `layer has an invalid tar header at byte ${at}`);
  }
  if (message === 'Header exceeds max size') return new LayerError(`layer has an extension header over 4 MiB at byte ${at}`);
  return new LayerError(`layer: ${message}`, { cause: err });
}

/**
 * The raw bytes of the stream from `keepFrom` on, as they pass on their
 * way to the parser: the extension headers of the entry to come, and a
 * chunk or two of read-ahead (the parser's backpressure bounds it).
 */
class RawWindow {
  private chunks: Uint8Array[] = [];
  private start = 0;
  private held = 0;
  private keep = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.trim();
    if (this.held > MAX_EXTENSION_BYTES) {
      throw new LayerError(`layer has over ${MAX_EXTENSION_BYTES} bytes of extension headers at byte ${this.keep}`);
    }
  }

  keepFrom(offset: number): void {
    this.keep = offset;
    this.trim();
  }

  private trim(): void {
    while (this.chunks.length > 0 && this.start + this.chunks[0]!.length <= this.keep) {
      const chunk = this.chunks.shift()!;
      this.start += chunk.length;
      this.held -= chunk.length;
    }
  }

  /** A copy of bytes [from, to) of the stream: the parser has seen them, so they have passed here. */
  take(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    let at = this.start;
    for (const chunk of this.chunks) {
      const lo = Math.max(from, at);
      const hi = Math.min(to, at + chunk.length);
      if (lo < hi) out.set(chunk.subarray(lo - at, hi - at), lo - from);
      at += chunk.length;
    }
    if (from < this.start || to > at) throw new Error(`tar window holds [${this.start}, ${at}), not [${from}, ${to})`);
    return out;
  }
}

const decoder = new TextDecoder();
const roundUp = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/**
 * One entry from `raw`: its extension headers (PAX `x` and `g`, GNU `L`
 * and `K`), then its own header block, last. `at` is where raw begins in
 * the stream; `header` is tar-stream's reading of it.
 */
function decodeEntry(raw: Uint8Array, at: number, header: Header): Omit<TarEntry, 'body'> {
  const own = raw.length - BLOCK;
  let pax: Map<string, Uint8Array> | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pos = 0;
  while (pos < own) {
    const block = raw.subarray(pos, pos + BLOCK);
    if (isZeroBlock(block)) throw new LayerError(`layer has entries after its end-of-archive marker (byte ${at + pos})`);
    const size = octal(block, 124, 12);
    const body = raw.subarray(pos + BLOCK, pos + BLOCK + size);
    const flag = String.fromCharCode(block[156]!);
    if (flag === 'x') pax = paxRecords(body, at + pos);
    else if (flag === 'g') checkGlobal(paxRecords(body, at + pos), at + pos);
    else if (flag === 'L') longName = cString(body);
    else if (flag === 'K') longLink = cString(body);
    else throw new LayerError(`layer has an unexpected extension header (type ${flag}) at byte ${at + pos}`);
    pos += BLOCK + roundUp(size);
  }
  if (pos !== own) throw new LayerError(`layer has malformed extension headers at byte ${at}`);
  const typeflag = raw[own + 156] === 0 ? '0' : String.fromCharCode(raw[own + 156]!);

  const paxPath = pax?.get('path');
  const paxLink = pax?.get('linkpath');
  if (longName !== null && paxPath !== undefined) throw new LayerError(`layer entry at byte ${at} has both a GNU long name and a PAX path`);
  if (longLink !== null && paxLink !== undefined) throw new LayerError(`layer entry at byte ${at} has both a GNU long link and a PAX linkpath`);
  const name = longName ?? (paxPath !== undefined ? decoder.decode(paxPath) : header.name);
  const linkname = longLink ?? (paxLink !== undefined ? decoder.decode(paxLink) : (header.linkname ?? ''));
  const field = (what: string, value: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(value) || value < 0 || value > max) throw entryError(name, `invalid ${what} in its header`);
    return value;
  };
  const paxNumber = (key: string): number | undefined => {
    const value = pax?.get(key);
    if (value === undefined) return undefined;
    const text = decoder.decode(value);
    if (!/^[0-9]+$/.test(text)) throw entryError(name, `invalid PAX ${key} ${JSON.stringify(text)}`);
    return Number(text);
  };
  const paxTime = (key: string): Timespec | undefined => {
    const value = pax?.get(key);
    if (value === undefined) return undefined;
    const text = decoder.decode(value);
    const time = parseTime(text);
    if (!time) throw entryError(name, `invalid PAX ${key} ${JSON.stringify(text)}`);
    return time;
  };

  const size = paxNumber('size') ?? header.size;
  if (size !== header.size) throw entryError(name, `PAX size ${size} that the tar parser read otherwise`);
  if (pax && [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) return unsupported('GNU sparse file (PAX GNU.sparse)');
  // tar-stream's type is null for a typeflag it does not know.
  const known = header.type as Header['type'] | null;
  const type = known === null || known === 'contiguous-file' ? null : known;
  const typeName = type ? TYPE_NAMES[type] : (UNSUPPORTED[typeflag] ?? `entry of unknown type ${JSON.stringify(typeflag)}`);
  if (type !== null && HEADER_ONLY.has(type) && size !== 0) throw entryError(name, `${typeName} with ${size} bytes of content`);
  const seconds = header.mtime.getTime() / 1000;
  if (!Number.isSafeInteger(seconds)) throw entryError(name, 'invalid mtime in its header');
  const mtime = paxTime('mtime') ?? [seconds, 0];
  return {
    name,
    linkname,
    type,
    typeName,
    size: field('size', size),
    mode: field('mode', header.mode) & 0o7777,
    uid: field('uid', paxNumber('uid') ?? header.uid, 0xfffffffe),
    gid: field('gid', paxNumber('gid') ?? header.gid, 0xfffffffe),
    mtime,
    atime: paxTime('atime') ?? null,
    devmajor: field('device major', header.devmajor),
    devminor: field('device minor', header.devminor),
    xattrs: [...(pax ?? [])].filter(([k]) => k.startsWith(XATTR)).map(([k, v]) => [k.slice(XATTR.length), v]),
  };

  function unsupported(what: string): never {
    throw entryError(name, `${what} is not supported`);
  }
}

const XATTR = 'SCHILY.xattr.';

function isZeroBlock(block: Uint8Array): boolean {
  // tar-stream takes a block as empty when all but its checksum field is zero.
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0 && (i < 148 || i >= 156)) return false;
  return true;
}

/** A numeric header field: octal text, or base-256 when its first byte has the high bit. */
function octal(block: Uint8Array, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = decoder.decode(field).replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

const cString = (bytes: Uint8Array) => {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
};

/** `LEN key=value\n` records, values kept as bytes; malformed ones refused, as Go's archive/tar does. */
function paxRecords(body: Uint8Array, at: number): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    const lengthText = space < 0 ? '' : decoder.decode(body.subarray(pos, space));
    const length = /^[1-9][0-9]*$/.test(lengthText) ? Number(lengthText) : NaN;
    const end = pos + length;
    if (!(end <= body.length) || space + 1 >= end || body[end - 1] !== 0x0a) throw new LayerError(`layer has a malformed PAX record at byte ${at}`);
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new LayerError(`layer has a malformed PAX record at byte ${at}`);
    records.set(decoder.decode(record.subarray(0, eq)), record.slice(eq + 1));
    pos = end;
  }
  return records;
}

function checkGlobal(records: Map<string, Uint8Array>, at: number): void {
  for (const key of ['path', 'linkpath', 'size']) {
    if (records.has(key)) throw new LayerError(`layer has a PAX global header setting ${key} (byte ${at}), which tar readers apply differently`);
  }
}

/** PAX's `SECONDS[.FRACTION]`, maybe negative, as a timespec (nanoseconds always >= 0). */
export function parseTime(text: string): Timespec | null {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!match) return null;
  let seconds = Number(match[2]);
  let nanos = Number((match[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (!Number.isSafeInteger(seconds)) return null;
  if (match[1] === '-') {
    seconds = -seconds;
    if (nanos > 0) {
      seconds -= 1;
      nanos = 1e9 - nanos;
    }
  }
  return [seconds, nanos];
}
