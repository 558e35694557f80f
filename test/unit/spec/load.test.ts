import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { loadManifest } from '../../../lib/spec/load.ts';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/manifests');
const fixture = (name: string): string => join(FIXTURES, name);

const tmp = mkdtempSync(join(tmpdir(), 'minipod-load-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A manifest file written for one case. */
function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function loadError(path: string): Promise<MinipodError> {
  try {
    await loadManifest(path);
  } catch (err) {
    assert.instance(err, MinipodError);
    assert.is((err as MinipodError).exitCode, 125);
    assert.not.match((err as Error).message, '\n');
    return err as MinipodError;
  }
  throw assert.unreachable(`${path} loaded`);
}

const WEB = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web' },
  spec: { containers: [{ name: 'httpd', image: 'busybox', command: ['httpd', '-f'] }] },
};

test('JSON by extension, with the absolute directory of the file', async () => {
  assert.equal(await loadManifest(fixture('web.json')), { manifest: WEB, dir: FIXTURES });
});

test('JSON by its first character, whatever the extension', async () => {
  const { manifest } = await loadManifest(file('web.yaml', `\n  ${JSON.stringify(WEB)}`));
  assert.equal(manifest, WEB);
});

test('a relative path gives an absolute directory', async () => {
  const path = file('pod.json', '{}');
  assert.is((await loadManifest(relative(process.cwd(), path))).dir, tmp);
});

test('YAML read as Kubernetes reads it (YAML 1.1, timestamps as strings); a trailing --- is fine', async () => {
  const { manifest } = await loadManifest(fixture('web.yaml'));
  assert.equal(manifest, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      shareProcessNamespace: true,
      restartPolicy: 'OnFailure',
      containers: [{
        name: 'httpd',
        image: 'busybox',
        command: ['httpd', '-f', '-p', '8080'],
        ports: [{ containerPort: 8080 }],
        env: [{ name: 'STARTED', value: '2024-05-01' }, { name: 'MODE', value: '0644' }],
      }],
    },
  });
});

test('YAML: octal, merge keys, null documents skipped', async () => {
  const path = file('misc.yaml', '--- ~\n---\nbase: &b {a: 1}\nmode: 0644\nmerged: {<<: *b, c: 2}\n');
  assert.equal((await loadManifest(path)).manifest, { base: { a: 1 }, mode: 420, merged: { a: 1, c: 2 } });
});

test('YAML scalars as go-yaml v2 reads them for kubectl', async () => {
  const words = 'yes, No, ON, off, y, N, True, yEs, 0644, -0644, 0o17, 0x1F, 0b101, 1_000, 08, 0, 1.5, ~, 2024-01-01, "0644"';
  const path = file('scalars.yaml', `values: [${words}]\n`);
  assert.equal((await loadManifest(path)).manifest, {
    values: [true, false, true, false, true, false, true, 'yEs', 420, -420, 15, 31, 5, 1000, 8, 0, 1.5, null, '2024-01-01', '0644'],
  });
});

/** A document using the anchor `&b` `uses` times. */
const aliases = (uses: number): string => `base: &b {a: 1}\nuses: [${Array(uses).fill('*b').join(', ')}]\n`;

test('YAML: up to 100 alias uses are fine', async () => {
  const { manifest } = await loadManifest(file('aliases.yaml', aliases(100)));
  assert.is((manifest as { uses: unknown[] }).uses.length, 100);
});

const TOO_MANY_ALIASES = 'YAML aliases expand too much (more than 100 references to anchors)';

const ERROR_CASES: [string, () => string, (path: string) => string][] = [
  ['missing file', () => join(tmp, 'nope.yaml'), (p) => `open ${p}: no such file`],
  ['a directory', () => tmp, (p) => `open ${p}: is a directory`],
  ['YAML syntax error names line and column', () => fixture('bad-indent.yaml'),
    (p) => `${p}: bad indentation of a sequence entry at line 7, column 6`],
  ['YAML duplicate key', () => file('dup.yaml', 'kind: Pod\nkind: Job\n'), (p) => `${p}: duplicated mapping key at line 2, column 1`],
  ['several YAML documents', () => fixture('two-pods.yaml'), (p) => `${p}: holds 2 YAML documents; minipod runs one Pod per file`],
  ['an empty YAML file', () => file('empty.yaml', '# nothing yet\n'), (p) => `${p}: empty manifest`],
  ['an alias bomb', () => fixture('alias-bomb.yaml'), (p) => `${p}: ${TOO_MANY_ALIASES}`],
  ['101 alias uses', () => file('aliases.yaml', aliases(101)), (p) => `${p}: ${TOO_MANY_ALIASES}`],
  ['an alias inside its own anchor', () => file('cycle.yaml', 'a: &a [*a]\n'), (p) => `${p}: ${TOO_MANY_ALIASES}`],
  ['an undefined alias', () => file('alias.yaml', 'a: *nowhere\n'), (p) => `${p}: unidentified alias "nowhere" at line 1, column 12`],
  ['YAML nested too deep', () => file('deep.yaml', `a: ${'['.repeat(1000)}${']'.repeat(1000)}\n`),
    (p) => `${p}: nesting exceeded maxDepth (100) at line 1, column 103`],
  ['JSON nested too deep, outside strings', () => file('deep.json', `{"s": "[{[{", "a":\n ${'['.repeat(100)}${']'.repeat(100)}}`),
    (p) => `${p}: nesting exceeded maxDepth (100) at line 2, column 101`],
  ['a top-level array', () => file('list.yaml', '- kind: Pod\n'), (p) => `${p}: a manifest must be one Pod object, not an array`],
  ['a top-level string', () => file('word.yaml', 'Pod\n'), (p) => `${p}: a manifest must be one Pod object, not a string`],
  ['a top-level JSON null', () => file('null.json', 'null'), (p) => `${p}: a manifest must be one Pod object, not null`],
  ['more than 3 MiB', () => file('big.yaml', `a: ${'x'.repeat(3 * 1024 * 1024)}\n`),
    (p) => `${p}: too large: a manifest may be at most 3145728 bytes (3 MiB), as for the Kubernetes API server`],
];

for (const [name, path, expected] of ERROR_CASES) {
  test(`error: ${name}`, async () => {
    const p = path();
    assert.is((await loadError(p)).message, expected(p));
  });
}

test('exactly 3 MiB is not too large', async () => {
  const path = file('limit.yaml', `a: ${'x'.repeat(3 * 1024 * 1024 - 4)}\n`);
  assert.is(((await loadManifest(path)).manifest as { a: string }).a.length, 3 * 1024 * 1024 - 4);
});

test('error: bytes that are not UTF-8, with the byte and its place (column in characters)', async () => {
  const path = join(tmp, 'latin1.yaml');
  writeFileSync(path, Buffer.concat([Buffer.from('kind: Pod\nname: é'), Buffer.from([0xe9, 0x0a])]));
  assert.is((await loadError(path)).message, `${path}: invalid UTF-8 (byte 0xe9) at line 2, column 8`);
});

test('a UTF-8 byte order mark is skipped, in JSON too', async () => {
  const path = file('bom.json', `\ufeff${JSON.stringify(WEB)}`);
  assert.equal((await loadManifest(path)).manifest, WEB);
});

// V8's wording differs between versions; the file, the line and the column do not.
test('error: JSON syntax error names line and column, on one line', async () => {
  const path = fixture('bad-comma.json');
  const { message } = await loadError(path);
  assert.ok(message.startsWith(`${path}: `) && message.endsWith(' at line 3, column 1'), message);
});

test('error: a JSON error that quotes the input stays on one line', async () => {
  const path = file('quote.json', '{\n"a": }\n');
  assert.ok((await loadError(path)).message.startsWith(`${path}: `));
});

test.run();
