// Container log files in the CRI format that containerd writes and the
// kubelet reads (containerd pkg/cri/io/logger.go, kubelet
// pkg/kubelet/kuberuntime/logs/logs.go), one record a line:
//   2016-10-06T00:17:09.669794202Z stdout F a line the container wrote
// A line of more than MAX_MESSAGE bytes is cut into records tagged P
// (partial) and a last one tagged F (full); readers join them back.
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { pieceEnd } from './lines.ts';

/** containerd's default max_container_log_line_size: the bytes of message one record holds. */
export const MAX_MESSAGE = 16 * 1024;
const FOLLOW_POLL_MS = 100;
const NS_PER_S = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

/** Go's time.RFC3339Nano in UTC, e.g. `2016-10-06T00:17:09.669794202Z`. */
export function rfc3339Nano(epochNs: bigint): string {
  let seconds = epochNs / NS_PER_S;
  let ns = epochNs % NS_PER_S;
  if (ns < 0n) {
    // bigint division truncates toward zero: before 1970, borrow a second
    seconds -= 1n;
    ns += NS_PER_S;
  }
  const date = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${date}${fraction(Number(ns))}Z`;
}

let anchorWall = 0n;
let anchorHr = 0n;
let last = 0n;

/**
 * The wall clock in ns, strictly increasing across calls, so that records
 * written in the same millisecond keep their order. Date.now() has only
 * ms: the ns are process.hrtime.bigint()'s (monotonic, in Node and Deno)
 * elapsed since an anchor taken on the wall clock. hrtime does not follow
 * a step of the wall clock (NTP, settimeofday), so when the two drift more
 * than 2 ms apart the anchor is taken again; a step back is absorbed by
 * counting on from the last time given, 1 ns at a time.
 */
export function nowNs(): bigint {
  const hr = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * NS_PER_MS;
  let now = anchorWall + (hr - anchorHr);
  if (now - wall > 2n * NS_PER_MS || wall - now > 2n * NS_PER_MS) {
    anchorWall = wall;
    anchorHr = hr;
    now = wall;
  }
  last = now > last ? now : last + 1n;
  return last;
}

interface Line {
  stream: 'stdout' | 'stderr';
  line: string;
  partial: boolean;
}

/** Appends records to one log file, one per line a container wrote. */
export class CriLogWriter {
  private readonly fd: number;
  /** Lines given since the last write to the file, in order; null when none were given in this turn of the event loop. */
  private pending: Line[] | null = null;
  private failure: unknown = null;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // O_APPEND: a record lands whole at the end, whoever else appends
      this.fd = openSync(path, 'a', 0o600);
    } catch (err) {
      throw wrapError(`open log file ${path}`, err);
    }
  }

  /**
   * `line` is one line without its newline, or with `partial` a piece of
   * one whose end is still to come (its last record is tagged P too).
   * The first line of a turn of the event loop is written before
   * returning; the lines given after it in the same turn (the rest of the
   * chunk the caller read from the container) are written together in a
   * microtask, at the end of the turn: one write(2) a chunk, not one a line
   * (a log of 100-byte lines would otherwise be a system call every 100
   * bytes). So a line is on disk before the next chunk is read, and a crash
   * of minipod loses nothing the container wrote but the lines of the chunk
   * in hand. A failure to write them is thrown by the next write() or by
   * close().
   */
  write(stream: 'stdout' | 'stderr', line: string, partial = false): void {
    this.throwFailure();
    if (this.pending) {
      this.pending.push({ stream, line, partial });
      return;
    }
    this.pending = [];
    queueMicrotask(() => this.flushQuietly());
    this.append([{ stream, line, partial }]);
  }

  /** Writes what is pending now. */
  flush(): void {
    this.throwFailure();
    const lines = this.pending;
    this.pending = null;
    if (lines?.length) this.append(lines);
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private append(lines: Line[]): void {
    const bytes = records(lines);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done);
    } catch (err) {
      throw wrapError(`write log file ${this.path}`, err);
    }
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (err) {
      this.failure = err;
    }
  }

  private throwFailure(): void {
    if (this.failure === null) return;
    const err = this.failure;
    this.failure = null;
    throw err;
  }
}

/**
 * The records of `lines`, each timed by nowNs(): every record of one batch
 * is read from the clock once and then counted on by 1 ns, as nowNs() does
 * for calls within the same nanosecond, so that formatting a time costs
 * a few string operations, not a conversion of the date.
 */
function records(lines: Line[]): Uint8Array {
  const clock = batchClock();
  const parts: Uint8Array[] = [];
  let text = ''; // records of short lines, encoded once
  for (const { stream, line, partial } of lines) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line this short is one record.
    if (line.length <= MAX_MESSAGE / 3) {
      text += `${clock.next()} ${stream} ${partial ? 'P' : 'F'} ${line}\n`;
      continue;
    }
    if (text) parts.push(Buffer.from(text));
    text = '';
    const message = Buffer.from(line);
    let start = 0;
    do {
      const end = recordEnd(message, start);
      const tag = end === message.length && !partial ? 'F' : 'P';
      parts.push(Buffer.from(`${clock.next()} ${stream} ${tag} `), message.subarray(start, end), NEWLINE);
      start = end;
    } while (start < message.length); // an empty line is still one record
  }
  clock.end();
  if (parts.length === 0) return Buffer.from(text);
  if (text) parts.push(Buffer.from(text));
  return Buffer.concat(parts);
}

/**
 * RFC3339Nano times for a batch of records: the first from nowNs(), then
 * each 1 ns later; end() moves nowNs() past the last one given.
 */
function batchClock(): { next(): string; end(): void } {
  const first = nowNs();
  const firstNs = ((first % NS_PER_S) + NS_PER_S) % NS_PER_S;
  const fixed = rfc3339Nano(first - firstNs).slice(0, 19); // the date and time to the second
  const ns0 = Number(firstNs);
  let n = 0;
  return {
    next() {
      const ns = ns0 + n;
      const time = ns < 1_000_000_000 ? `${fixed}${fraction(ns)}Z` : rfc3339Nano(first + BigInt(n));
      n++;
      return time;
    },
    end() {
      if (n > 1) last = first + BigInt(n - 1);
    },
  };
}

/** Go's fraction of a second: `.` and the ns with trailing zeros dropped; nothing for 0. */
function fraction(ns: number): string {
  if (ns === 0) return '';
  let digits = String(ns).padStart(9, '0');
  let end = 9;
  while (digits.charCodeAt(end - 1) === 48) end--; // '0'
  if (end < 9) digits = digits.slice(0, end);
  return `.${digits}`;
}

const NEWLINE = Buffer.from('\n');

/**
 * Where the record starting at `start` ends: after MAX_MESSAGE bytes, moved
 * back to the start of a character. containerd cuts anywhere; never
 * cutting a character keeps each record valid UTF-8 on its own.
 */
function recordEnd(message: Uint8Array, start: number): number {
  return pieceEnd(message, start, MAX_MESSAGE);
}

export interface CriRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  message: string;
}

/** Go's RFC3339 with any fraction, which the kubelet's time.Parse accepts. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** One record line, without its newline; the caller names the file and line in the error. */
export function parseRecord(text: string): CriRecord {
  const [time, afterTime] = field(text, 0, 'timestamp');
  if (!RFC3339.test(time)) throw new MinipodError(`unexpected timestamp "${time}", not RFC3339`);
  const [stream, afterStream] = field(text, afterTime, 'stream type');
  if (stream !== 'stdout' && stream !== 'stderr') throw new MinipodError(`unexpected stream type "${stream}"`);
  const [tags, afterTags] = field(text, afterStream, 'log tag');
  // More tags may follow after a ':' (cri-api's LogTagDelimiter): the first is P or F.
  const tag = tags.split(':')[0];
  if (tag !== 'P' && tag !== 'F') throw new MinipodError(`unexpected log tag "${tag}"`);
  return { time, stream, partial: tag === 'P', message: text.slice(afterTags) };
}

/** The text from `from` to the next space, and where the rest starts. */
function field(text: string, from: number, what: string): [string, number] {
  const end = text.indexOf(' ', from);
  if (end < 0) throw new MinipodError(`${what} is not found`);
  return [text.slice(from, end), end + 1];
}

export interface LogLine {
  /** The time of the line's first record: when the container began writing it. */
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * Hands on each line once its F record has come. P records are held per
 * stream: in a containerd file, stdout's and stderr's records interleave.
 */
class LineJoiner {
  private readonly held = new Map<'stdout' | 'stderr', LogLine>();
  constructor(private readonly onLine: (line: LogLine) => void) {}

  add(record: CriRecord): void {
    const line = this.held.get(record.stream) ?? { time: record.time, stream: record.stream, text: '' };
    line.text += record.message;
    if (record.partial) {
      this.held.set(record.stream, line);
    } else {
      this.held.delete(record.stream);
      this.onLine(line);
    }
  }

  /**
   * At the end of a file whose writer stopped mid-line (containerd tags a
   * stream's unterminated last line P): what there is, as kubectl shows it.
   */
  flush(): void {
    for (const line of this.held.values()) this.onLine(line);
    this.held.clear();
  }
}

/** A whole log file, P parts joined into lines, as kubectl logs shows them. */
/** A whole log file's lines, and where its complete records end (a follower goes on from there). */
export function readLogFile(path: string): { lines: LogLine[]; bytes: number } {
  let data: Uint8Array;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw wrapError(`read log file ${path}`, err);
  }
  // A record still being written (no newline yet) is left for later.
  const bytes = data.lastIndexOf(10) + 1;
  const lines: LogLine[] = [];
  const joiner = new LineJoiner((line) => lines.push(line));
  const records = new TextDecoder().decode(data.subarray(0, bytes)).split('\n');
  records.pop();
  for (const [i, record] of records.entries()) {
    try {
      joiner.add(parseRecord(record));
    } catch (err) {
      throw wrapError(`${path}:${i + 1}`, err);
    }
  }
  joiner.flush();
  return { lines, bytes };
}

/**
 * Calls `onLine` for each complete line appended after `fromByte`, until
 * stop(). Polls: fs.watch is not dependable under Deno nor on every
 * filesystem. `offset` is the byte after the last complete record read.
 * Unlike readLogFile, a malformed record is skipped, as the kubelet does
 * when following: nothing could catch the error thrown from a timer.
 */
export function followLogFile(path: string, fromByte: number, onLine: (line: LogLine) => void): { stop(): void; readonly offset: number } {
  let offset = fromByte;
  let stopped = false;
  const joiner = new LineJoiner((line) => {
    if (!stopped) onLine(line);
  });
  const poll = () => {
    const bytes = readFrom(path, offset);
    const end = bytes.lastIndexOf(0x0a) + 1; // a record with no newline yet is still being written
    if (end === 0) return;
    offset += end;
    for (const record of new TextDecoder().decode(bytes.subarray(0, end - 1)).split('\n')) {
      try {
        joiner.add(parseRecord(record));
      } catch (err) {
        if (!(err instanceof MinipodError)) throw err;
      }
    }
  };
  const tick = () => {
    poll();
    if (!stopped) timer = setTimeout(tick, FOLLOW_POLL_MS);
  };
  let timer = setTimeout(tick, 0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    get offset() {
      return offset;
    },
  };
}

/** The bytes from `offset` to the end of the file; none while the file does not exist yet. */
function readFrom(path: string, offset: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
    throw err;
  }
  try {
    const bytes = new Uint8Array(Math.max(fstatSync(fd).size - offset, 0));
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * `kubectl logs` output for one line, without its newline: the text, or
 * with timestamps the time first. The kubelet prints that time as
 * RFC3339NanoFixed (its timeFormatOut), the fraction padded to 9 digits.
 */
export function formatLine(line: LogLine, timestamps: boolean): string {
  if (!timestamps) return line.text;
  const [, seconds, fraction = '', zone] = /^(.{19})(?:\.(\d+))?(.*)$/.exec(line.time)!;
  return `${seconds}.${fraction.padEnd(9, '0').slice(0, 9)}${zone} ${line.text}`;
}

/** The last n lines; all of them when n < 0, as kubectl --tail. */
export function tail<T>(lines: T[], n: number): T[] {
  return n < 0 ? lines.slice() : lines.slice(Math.max(lines.length - n, 0));
}
