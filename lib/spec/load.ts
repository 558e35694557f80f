// Read a manifest file into plain data. Every failure is one line that starts
// with the file name, so the CLI can print it as is.
// Sync on purpose: a CLI reading one small file gains nothing from the
// promise API and would pay for loading it at every start.
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MinipodError } from '../errors.ts';

/** YAML aliases can expand exponentially ("billion laughs"); a Pod never needs many. */
const MAX_ALIASES = 100;

/** The most the Kubernetes API server takes in one request; read no further, so a huge file fails at once. */
const MAX_BYTES = 3 * 1024 * 1024;

/** As deep as js-yaml lets YAML nest; a Pod needs a dozen levels. */
const MAX_DEPTH = 100;

/** The parsed manifest (not validated yet) and the absolute directory that relative image paths are relative to. */
export async function loadManifest(path: string): Promise<{ manifest: unknown; dir: string }> {
  const text = readText(path);
  const json = path.endsWith('.json') || text.trimStart().startsWith('{');
  const manifest = json ? parseJson(path, text) : await parseYaml(path, text);
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new MinipodError(`${path}: a manifest must be one Pod object, not ${kindOf(manifest)}`);
  }
  return { manifest, dir: dirname(resolve(path)) };
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

function readText(path: string): string {
  const bytes = readBytes(path);
  // The decoder drops a byte order mark, so JSON.parse never sees one.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MinipodError(`${path}: invalid UTF-8 ${utf8ErrorPlace(bytes)}`);
  }
}

function readBytes(path: string): Uint8Array {
  const buffer = new Uint8Array(MAX_BYTES + 1);
  let length = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new MinipodError(`open ${path}: ${REASONS[code] ?? (err as Error).message}`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (length > MAX_BYTES) {
    throw new MinipodError(`${path}: too large: a manifest may be at most ${MAX_BYTES} bytes (3 MiB), as for the Kubernetes API server`);
  }
  return buffer.subarray(0, length);
}

/** `(byte 0xff) at line L, column C` of the first byte that is not UTF-8; the column counts characters. */
function utf8ErrorPlace(bytes: Uint8Array): string {
  // A streaming decoder accepts a prefix that ends inside a character, so the
  // longest prefix it accepts ends just before the bad byte.
  const decodes = (end: number, stream = true): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream });
      return true;
    } catch {
      return false;
    }
  };
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (decodes(mid)) good = mid;
    else bad = mid;
  }
  // The byte at bad - 1 is where decoding fails; when it cuts short a
  // character begun before it, that character's first byte is the culprit.
  let offset = bad - 1;
  if (!decodes(offset, false)) {
    do offset--; while (offset > 0 && (bytes[offset] ?? 0) < 0xc0);
  }
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  const line = bytes.subarray(0, lineStart).filter((b) => b === 0x0a).length + 1;
  const column = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
  const hex = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
  return `(byte 0x${hex}) at line ${line}, column ${column}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function parseJson(path: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MinipodError(`${path}: ${jsonMessage((err as Error).message, text)}`, { cause: err });
  }
  // JSON.parse takes any depth, but walking such a value (validating it,
  // printing it) would overflow the stack.
  const deep = tooDeep(text);
  if (deep !== undefined) throw new MinipodError(`${path}: nesting exceeded maxDepth (${MAX_DEPTH}) ${place(text, deep)}`);
  return value;
}

/** The offset of the first `[` or `{` nested deeper than MAX_DEPTH, outside strings. */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === ']' || c === '}') {
      depth--;
    }
  }
  return undefined;
}

function place(text: string, offset: number): string {
  const lines = text.slice(0, offset).split('\n');
  return `at line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1}`;
}

// V8 messages quote the input (newlines and all) and give a byte offset that
// only Deno's V8 turns into a line: make it one line, and name line and column
// on every runtime.
function jsonMessage(message: string, text: string): string {
  return message
    .replace(/\s+/g, ' ')
    .replace(/ at position (\d+)(?: \(line \d+ column \d+\))?/, (_, offset: string) => ` ${place(text, Number(offset))}`);
}

async function parseYaml(path: string, text: string): Promise<unknown> {
  // Loaded here, not at the top, so JSON manifests do not pay for the parser.
  const jsyaml = await import('js-yaml');
  let values: unknown[];
  try {
    values = jsyaml.loadAll(text, null, { schema: kubernetesSchema(jsyaml) });
  } catch (err) {
    throw new MinipodError(`${path}: ${yamlMessage(err)}`, { cause: err });
  }
  // kubectl skips documents that are empty or null, such as the one after a trailing `---`.
  const found = values.filter((value) => value !== null && value !== undefined);
  if (found.length > 1) {
    throw new MinipodError(`${path}: holds ${found.length} YAML documents; minipod runs one Pod per file`);
  }
  if (found.length === 0) throw new MinipodError(`${path}: empty manifest`);
  if (aliasUses(found[0], MAX_ALIASES) > MAX_ALIASES) {
    throw new MinipodError(`${path}: YAML aliases expand too much (more than ${MAX_ALIASES} references to anchors)`);
  }
  return found[0];
}

// Kubernetes reads YAML as go-yaml v2 does, with YAML 1.1 scalars: `yes`,
// `on` and `y` are booleans and `0644` is octal. js-yaml knows only YAML 1.2,
// so its core schema gets go-yaml's booleans and integers, and `<<` merge
// keys. Timestamps stay out: go-yaml hands them to Kubernetes as strings.
const TRUE = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'];
const FALSE = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'];

// go-yaml drops every `_`, then reads the rest as Go's strconv.ParseInt(s, 0, 64).
const INTEGER = /^([-+]?)(0b[01]+|0o[0-7]+|0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

function integer(text: string): number {
  const [, sign, digits = ''] = INTEGER.exec(text.replaceAll('_', '')) ?? [];
  // Number() reads 0b, 0o and 0x but takes a leading 0 for decimal.
  const value = /^0[0-7]/.test(digits) ? parseInt(digits, 8) : Number(digits);
  return sign === '-' ? -value : value;
}

function kubernetesSchema({ CORE_SCHEMA, Type }: typeof import('js-yaml')): import('js-yaml').Schema {
  const scalar = (tag: string, resolve: (text: string) => boolean, construct?: (text: string) => unknown) =>
    new Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (text: string | null) => text !== null && resolve(text), construct });
  return CORE_SCHEMA.extend({
    implicit: [
      scalar('bool', (text) => TRUE.includes(text) || FALSE.includes(text), (text) => TRUE.includes(text)),
      scalar('int', (text) => INTEGER.test(text.replaceAll('_', '')), integer),
      scalar('merge', (text) => text === '<<'),
    ],
  });
}

/** js-yaml's reason and place, without its multi-line source excerpt. */
function yamlMessage(err: unknown): string {
  const { reason, mark } = err as Partial<import('js-yaml').YAMLException>;
  if (reason === undefined) return (err as Error).message;
  return mark ? `${reason} at line ${mark.line + 1}, column ${mark.column + 1}` : reason;
}

/**
 * How many alias uses the document holds once every alias is expanded,
 * counted up to just past `limit`. js-yaml gives an alias the very object of
 * its anchor, so an object met again is an alias use, and nested aliases
 * multiply ("billion laughs"). Each object is walked once, its count kept;
 * an alias to an anchor still being read (a cycle) counts as endless.
 */
function aliasUses(root: unknown, limit: number): number {
  const counts = new Map<object, number>();
  const walk = (node: object): number => {
    counts.set(node, Infinity);
    let count = 0;
    for (const child of Object.values(node)) {
      if (typeof child !== 'object' || child === null) continue;
      const known = counts.get(child);
      count += known === undefined ? walk(child) : 1 + known;
      if (count > limit) break;
    }
    counts.set(node, count);
    return count;
  };
  return typeof root === 'object' && root !== null ? walk(root) : 0;
}
