// Read a manifest file into plain data. Every failure is one line that starts
// with the file name, so the CLI can print it as is.
// Sync on purpose: a CLI reading one small file gains nothing from the
// promise API and would pay for loading it at every start.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MinipodError } from '../errors.ts';

/** YAML aliases can expand exponentially ("billion laughs"); a Pod never needs many. */
const MAX_ALIASES = 100;

/** The parsed manifest (not validated yet) and the absolute directory that relative image paths are relative to. */
export async function loadManifest(path: string): Promise<{ manifest: unknown; dir: string }> {
  const text = readText(path);
  const json = path.endsWith('.json') || text.trimStart().startsWith('{');
  const manifest = json ? parseJson(path, text) : await parseYaml(path, text);
  return { manifest, dir: dirname(resolve(path)) };
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new MinipodError(`open ${path}: ${REASONS[code] ?? (err as Error).message}`, { cause: err });
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MinipodError(`${path}: ${jsonMessage((err as Error).message, text)}`, { cause: err });
  }
}

// V8 messages quote the input (newlines and all) and give a byte offset that
// only Deno's V8 turns into a line: make it one line, and name line and column
// on every runtime.
function jsonMessage(message: string, text: string): string {
  return message
    .replace(/\s+/g, ' ')
    .replace(/ at position (\d+)(?: \(line \d+ column \d+\))?/, (_, offset: string) => {
      const lines = text.slice(0, Number(offset)).split('\n');
      return ` at line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1}`;
    });
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
