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
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text, {
    // Kubernetes reads YAML 1.1 (go-yaml): `yes` is true, `0644` is octal.
    version: '1.1',
    // ... but go-yaml hands timestamps to Kubernetes as strings, not dates.
    customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const error = docs.flatMap((doc) => doc.errors)[0];
  // The message goes on with a source excerpt after "at line L, column C:".
  if (error) throw new MinipodError(`${path}: ${error.message.split('\n')[0]?.replace(/:$/, '')}`, { cause: error });
  let values: unknown[];
  try {
    values = docs.map((doc) => doc.toJS({ maxAliasCount: MAX_ALIASES }));
  } catch (err) {
    // Too many aliases, or an alias to an undefined anchor.
    throw new MinipodError(`${path}: ${(err as Error).message}`, { cause: err });
  }
  // kubectl skips documents that are empty or null, such as the one after a trailing `---`.
  const found = values.filter((value) => value !== null);
  if (found.length > 1) {
    throw new MinipodError(`${path}: holds ${found.length} YAML documents; minipod runs one Pod per file`);
  }
  if (found.length === 0) throw new MinipodError(`${path}: empty manifest`);
  return found[0];
}
