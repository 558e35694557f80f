import { Buffer } from 'node:buffer';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CriLogWriter, type LogLine, followLogFile, formatLine, nowNs, parseRecord, readLogFile, rfc3339Nano, tail,
} from '../../../lib/logs/cri.ts';
import { minipodError } from '../../helpers/assert.ts';

const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z';

/** A log file path two directories down in a fresh temp dir, as under /var/log/pods. */
function tempLog() {
  const dir = mkdtempSync(join(tmpdir(), 'minipod-logs-'));
  const path = join(dir, 'default_web_0123', 'app', '0.log');
  return { dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The file's records, without their newlines; the file must end with one. */
function records(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'every record ends with a newline');
  return text.slice(0, -1).split('\n');
}

/** An RFC3339Nano time in ns since the epoch, to compare records' times. */
function epochNs(time: string): bigint {
  const fraction = /\.(\d+)Z$/.exec(time)?.[1] ?? '';
  return BigInt(Date.parse(time.replace(/\.\d+/, ''))) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited += 20) {
    if (waited > 3000) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('rfc3339Nano: Go RFC3339Nano, trailing zeros of the fraction dropped', () => {
  assert.is(rfc3339Nano(1475713029669794202n), '2016-10-06T00:17:09.669794202Z');
  assert.is(rfc3339Nano(1475713029669794200n), '2016-10-06T00:17:09.6697942Z');
  assert.is(rfc3339Nano(1475713029100000000n), '2016-10-06T00:17:09.1Z');
  assert.is(rfc3339Nano(1475713029000000000n), '2016-10-06T00:17:09Z');
  assert.is(rfc3339Nano(1475713029000000001n), '2016-10-06T00:17:09.000000001Z');
  assert.is(rfc3339Nano(0n), '1970-01-01T00:00:00Z');
  assert.is(rfc3339Nano(-1n), '1969-12-31T23:59:59.999999999Z');
});

test('nowNs: strictly increasing, and the wall clock', () => {
  let previous = nowNs();
  for (let i = 0; i < 10_000; i++) {
    const now = nowNs();
    assert.ok(now > previous, `${now} > ${previous}`);
    previous = now;
  }
  const drift = Number(nowNs() / 1_000_000n) - Date.now();
  assert.ok(Math.abs(drift) < 50, `within 50 ms of Date.now(), ${drift} ms off`);
});

test('writer: one F record a line, stdout and stderr, an empty line; 0700 dirs, 0600 file', () => {
  const t = tempLog();
  try {
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', 'hello  world ');
    writer.write('stderr', 'oops');
    writer.write('stdout', '');
    writer.close();
    const lines = records(t.path);
    assert.is(lines.length, 3);
    assert.match(lines[0]!, new RegExp(`^${TIME} stdout F hello  world $`));
    assert.match(lines[1]!, new RegExp(`^${TIME} stderr F oops$`));
    assert.match(lines[2]!, new RegExp(`^${TIME} stdout F $`));
    const times = lines.map((line) => epochNs(line.split(' ')[0]!));
    assert.ok(times[0]! < times[1]! && times[1]! < times[2]!, 'in order');
    assert.is(statSync(t.path).mode & 0o777, 0o600);
    assert.is(statSync(join(t.dir, 'default_web_0123')).mode & 0o777, 0o700);
    assert.is(statSync(join(t.dir, 'default_web_0123', 'app')).mode & 0o777, 0o700);
    assert.equal(readLogFile(t.path).lines.map(({ stream, text }) => [stream, text]), [['stdout', 'hello  world '], ['stderr', 'oops'], ['stdout', '']]);
  } finally {
    t.remove();
  }
});

test('writer: the first line of a turn is on disk at once, the rest of the turn in one write at its end, 1 ns apart', async () => {
  const t = tempLog();
  try {
    const writer = new CriLogWriter(t.path);
    for (let i = 0; i < 1000; i++) writer.write(i % 2 ? 'stderr' : 'stdout', `line ${i}`);
    assert.is(records(t.path).length, 1, 'the first line is written before write() returns');
    await Promise.resolve();
    const lines = records(t.path);
    assert.is(lines.length, 1000, 'the others by the end of the turn');
    lines.forEach((line, i) => assert.match(line, new RegExp(`^${TIME} ${i % 2 ? 'stderr' : 'stdout'} F line ${i}$`)));
    const times = lines.map((line) => epochNs(line.split(' ')[0]!));
    for (let i = 2; i < times.length; i++) assert.is(times[i]! - times[i - 1]!, 1n, 'one batch counts on by 1 ns');
    assert.ok(times[1]! > times[0]!);
    writer.write('stdout', 'next turn');
    assert.ok(nowNs() > epochNs(records(t.path).at(-1)!.split(' ')[0]!), 'nowNs() stays past every time given');
    writer.close();
  } finally {
    t.remove();
  }
});

test('writer appends to an existing file', () => {
  const t = tempLog();
  try {
    for (const text of ['first', 'second']) {
      const writer = new CriLogWriter(t.path);
      writer.write('stdout', text);
      writer.close();
    }
    assert.equal(readLogFile(t.path).lines.map((line) => line.text), ['first', 'second']);
  } finally {
    t.remove();
  }
});

test('a 40000-byte line: records of 16384, 16384 and 7232 bytes tagged P, P, F, joined back by readLogFile', () => {
  const t = tempLog();
  try {
    const line = Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', line);
    writer.write('stdout', 'x'.repeat(16_384)); // exactly the limit: one record
    writer.close();
    const parsed = records(t.path).map(parseRecord);
    assert.equal(parsed.map((r) => [r.partial, r.message.length]), [[true, 16_384], [true, 16_384], [false, 7_232], [false, 16_384]]);
    assert.is(parsed.slice(0, 3).map((r) => r.message).join(''), line);
    const { lines } = readLogFile(t.path);
    assert.is(lines.length, 2);
    assert.is(lines[0]!.text, line);
    assert.is(lines[0]!.time, parsed[0]!.time, "a joined line has its first record's time");
  } finally {
    t.remove();
  }
});

test('a piece of a line still unfinished (partial) ends in a P record; the line it starts is read back whole', () => {
  const t = tempLog();
  try {
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', 'a'.repeat(16_384), true);
    writer.write('stdout', 'bc');
    writer.close();
    assert.equal(records(t.path).map(parseRecord).map((r) => [r.partial, r.message.length]), [[true, 16_384], [false, 2]]);
    assert.equal(readLogFile(t.path).lines.map((l) => l.text), [`${'a'.repeat(16_384)}bc`]);
  } finally {
    t.remove();
  }
});

test('a split inside multi-byte UTF-8 never cuts a character', () => {
  const t = tempLog();
  try {
    const euros = '€'.repeat(5_462); // 3 bytes each: 16384 falls inside the 5462nd
    const emoji = `a${'🎉'.repeat(4_100)}`; // 4 bytes each, after 1: 16384 falls inside one
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', euros);
    writer.write('stderr', emoji);
    writer.close();
    const bytes = readFileSync(t.path);
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const parsed = fatal.decode(bytes).slice(0, -1).split('\n').map(parseRecord);
    assert.equal(parsed.map((r) => [r.stream, r.partial, Buffer.byteLength(r.message)]), [
      ['stdout', true, 16_383], ['stdout', false, 3],
      ['stderr', true, 16_381], ['stderr', false, 16_401 - 16_381],
    ]);
    for (const r of parsed) assert.ok(!r.message.includes('\ufffd'), 'no character cut');
    assert.equal(readLogFile(t.path).lines.map((line) => line.text), [euros, emoji]);
  } finally {
    t.remove();
  }
});

test('unicode is written as UTF-8 and read back', () => {
  const t = tempLog();
  try {
    const text = 'héllo 日本語 🎉 ünïcödé\ttab';
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', text);
    writer.close();
    assert.ok(readFileSync(t.path).includes(Buffer.from(` stdout F ${text}\n`)));
    assert.is(readLogFile(t.path).lines[0]!.text, text);
  } finally {
    t.remove();
  }
});

test('parseRecord: fields, a message with spaces, P and F, tags after a colon', () => {
  assert.equal(parseRecord('2016-10-06T00:17:09.669794202Z stdout P log content 1'), {
    time: '2016-10-06T00:17:09.669794202Z', stream: 'stdout', partial: true, message: 'log content 1',
  });
  assert.equal(parseRecord('2016-10-06T00:17:09+02:00 stderr F:x  two spaces'), {
    time: '2016-10-06T00:17:09+02:00', stream: 'stderr', partial: false, message: ' two spaces',
  });
  assert.is(parseRecord('2016-10-06T00:17:09Z stdout F ').message, '');
});

test('parseRecord: malformed records are MinipodErrors', () => {
  assert.match(minipodError(() => parseRecord('')), /timestamp is not found/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z')), /timestamp is not found/);
  assert.match(minipodError(() => parseRecord('yesterday stdout F x')), /unexpected timestamp "yesterday"/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z stdout')), /stream type is not found/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z stdout F')), /log tag is not found/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z stdin F x')), /unexpected stream type "stdin"/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z stdout X x')), /unexpected log tag "X"/);
  assert.match(minipodError(() => parseRecord('2016-10-06T00:17:09Z stdout  x')), /unexpected log tag ""/);
});

test('readLogFile: names the file and line of a malformed record', () => {
  const t = tempLog();
  try {
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', 'fine');
    writer.close();
    appendFileSync(t.path, '2016-10-06T00:17:09Z stdout Q bad\n');
    assert.match(minipodError(() => readLogFile(t.path)), new RegExp(`^${t.path}:2: unexpected log tag "Q"$`));
    assert.match(minipodError(() => readLogFile(join(t.dir, 'missing.log'))), /missing\.log/);
  } finally {
    t.remove();
  }
});

test("readLogFile: P records joined per stream, a trailing P shown, a record with no newline yet left out", () => {
  const t = tempLog();
  try {
    const path = join(t.dir, 'containerd.log');
    writeFileSync(path, [
      '2016-10-06T00:17:09.1Z stdout P out-',
      '2016-10-06T00:17:09.2Z stderr F err',
      '2016-10-06T00:17:09.3Z stdout F line',
      '2016-10-06T00:17:09.4Z stderr P no newline at EOF',
      '2016-10-06T00:17:09.5Z stdout F half-wri',
    ].join('\n'));
    assert.equal(readLogFile(path).lines, [
      { time: '2016-10-06T00:17:09.2Z', stream: 'stderr', text: 'err' },
      { time: '2016-10-06T00:17:09.1Z', stream: 'stdout', text: 'out-line' },
      { time: '2016-10-06T00:17:09.4Z', stream: 'stderr', text: 'no newline at EOF' },
    ]);
  } finally {
    t.remove();
  }
});

test('followLogFile: lines appended after fromByte, a half-written record held until complete, nothing after stop', async () => {
  const t = tempLog();
  const writer = new CriLogWriter(t.path);
  try {
    writer.write('stdout', 'before');
    const seen: LogLine[] = [];
    const follow = followLogFile(t.path, statSync(t.path).size, (line) => seen.push(line));
    const long = 'z'.repeat(40_000);
    writer.write('stdout', 'one');
    writer.write('stderr', long);
    await until(() => seen.length === 2, 'two lines');
    appendFileSync(t.path, '2016-10-06T00:17:09Z stdout F half');
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.is(seen.length, 2, 'a record with no newline is held');
    appendFileSync(t.path, '-written\n');
    await until(() => seen.length === 3, 'the completed record');
    assert.equal(seen.map(({ stream, text }) => [stream, text]), [['stdout', 'one'], ['stderr', long], ['stdout', 'half-written']]);
    assert.is(follow.offset, statSync(t.path).size);
    follow.stop();
    writer.write('stdout', 'after');
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.is(seen.length, 3, 'nothing after stop');
  } finally {
    writer.close();
    t.remove();
  }
});

test('followLogFile: from 0, a file that does not exist yet', async () => {
  const t = tempLog();
  try {
    const seen: string[] = [];
    const follow = followLogFile(t.path, 0, (line) => seen.push(line.text));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const writer = new CriLogWriter(t.path);
    writer.write('stdout', 'a');
    writer.write('stdout', 'b');
    writer.close();
    await until(() => seen.length === 2, 'two lines');
    follow.stop();
    assert.equal(seen, ['a', 'b']);
  } finally {
    t.remove();
  }
});

test('formatLine: the text, or the time with a 9-digit fraction then the text', () => {
  const line: LogLine = { time: '2016-10-06T00:17:09.6697942Z', stream: 'stdout', text: 'hi there' };
  assert.is(formatLine(line, false), 'hi there');
  assert.is(formatLine(line, true), '2016-10-06T00:17:09.669794200Z hi there');
  assert.is(formatLine({ ...line, time: '2016-10-06T00:17:09Z' }, true), '2016-10-06T00:17:09.000000000Z hi there');
  assert.is(formatLine({ ...line, time: '2016-10-06T02:17:09.5+02:00' }, true), '2016-10-06T02:17:09.500000000+02:00 hi there');
});

test('tail: the last n lines, all when n < 0', () => {
  const lines = ['a', 'b', 'c'];
  assert.equal(tail(lines, 2), ['b', 'c']);
  assert.equal(tail(lines, 0), []);
  assert.equal(tail(lines, 3), lines);
  assert.equal(tail(lines, 10), lines);
  assert.equal(tail(lines, -1), lines);
  assert.equal(tail([], 5), []);
});

test.run();
