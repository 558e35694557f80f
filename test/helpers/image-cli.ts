// What the image integration tests (test/integration/images-*.test.ts)
// share: the CLI run against a store of the test's own, with no auth file
// of this machine's read, and a look at the store that says whether a pull
// left anything half-done in sight.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertBaseline, minipodCgroups, snapshot } from './baseline.ts';
import type { ImageRecord } from '../../lib/image/store.ts';
import { cliCommand, isRoot, Scratch } from './cli.ts';

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

export interface CliOptions {
  /** Added to (and overriding) the environment below. */
  env?: Record<string, string>;
  /** Standard input: bytes, or a file to read it from. */
  input?: Uint8Array;
  inputFile?: string;
  timeout?: number;
}

/**
 * `minipod --root <scratch> --images IMAGES ARGS`; never throws on a
 * non-zero exit. Credentials are looked for only where the test puts
 * them: REGISTRY_AUTH_FILE and XDG_RUNTIME_DIR unset, DOCKER_CONFIG a
 * directory of the scratch area that holds nothing.
 */
export function imageCli(scratch: Scratch, images: string, args: string[], opts: CliOptions = {}): ResultPromise<{ reject: false; all: true }> {
  const [cmd, pre] = cliCommand;
  return execa(cmd, [...pre, '--root', scratch.root, '--images', images, ...args], {
    reject: false,
    timeout: opts.timeout ?? 30_000,
    all: true,
    cwd: repo,
    env: { NO_COLOR: '1', REGISTRY_AUTH_FILE: '', XDG_RUNTIME_DIR: '', DOCKER_CONFIG: noDockerConfig(scratch), ...opts.env },
    ...(opts.input ? { input: opts.input } : opts.inputFile ? { inputFile: opts.inputFile } : { stdin: 'ignore' as const }),
  }) as ResultPromise<{ reject: false; all: true }>;
}

/** The DOCKER_CONFIG of imageCli: a directory that does not exist, so a message naming it is the same every run. */
export const noDockerConfig = (scratch: Scratch) => join(scratch.dir, 'docker');

/** A fresh image store directory (not created: the CLI makes it) in a temp dir; `remove()` it in finally. */
export function tempStore(label: string): { dir: string; images: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `minipod-${label}-`));
  return { dir, images: join(dir, 'images'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A progress line of a pull whose stderr is not a terminal. */
export const PROGRESS = /^[0-9a-f]{12}: (already exists|pulled \d+\.\d (KiB|MiB) in \d+\.\ds \(\d+\.\d (KiB|MiB)\/s\))$/;

/** stderr of a pull split into its progress lines (layer's 12 hex -> `pulled`/`already exists`) and the rest. */
export function pullOutput(stderr: string): { layers: Map<string, 'pulled' | 'already exists'>; other: string[] } {
  const layers = new Map<string, 'pulled' | 'already exists'>();
  const other: string[] = [];
  for (const line of stderr.split('\n').filter((l) => l !== '')) {
    if (!PROGRESS.test(line)) {
      other.push(line);
      continue;
    }
    const hex = line.slice(0, 12);
    assert.not.ok(layers.has(hex), `one progress line per layer, ${hex} twice in:\n${stderr}`);
    layers.set(hex, line.includes('already exists') ? 'already exists' : 'pulled');
  }
  return { layers, other };
}

export const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
export const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

/** The digests of the blobs in the store. */
export function blobsIn(images: string): string[] {
  return entries(join(images, 'blobs', 'sha256')).map((hex) => `sha256:${hex}`).sort();
}

/** The diff IDs of the complete snapshots (layer.json and fs present). */
export function snapshotsIn(images: string): string[] {
  return entries(join(images, 'snapshots'))
    .filter((name) => /^[0-9a-f]{64}$/.test(name) && isFile(join(images, 'snapshots', name, 'layer.json')))
    .map((hex) => `sha256:${hex}`)
    .sort();
}

/**
 * What a pull must never leave in sight, one line each: a blob whose
 * content is not its name's digest, anything in blobs/sha256/ not named by
 * a digest, a snapshot directory under a final name without layer.json,
 * fs/ or whose layer.json names another layer. With `finished` (the last
 * process ended by itself), also what only a process that dies may leave:
 * downloads in ingest/, unpacks in snapshots/.tmp-*.
 */
export function storeProblems(images: string, opts: { finished?: boolean } = { finished: true }): string[] {
  const out: string[] = [];
  const blobs = join(images, 'blobs', 'sha256');
  for (const name of entries(blobs)) {
    if (!/^[0-9a-f]{64}$/.test(name)) {
      out.push(`blobs/sha256/${name}: not a digest`);
      continue;
    }
    const got = createHash('sha256').update(readFileSync(join(blobs, name))).digest('hex');
    if (got !== name) out.push(`blobs/sha256/${name}: content has digest ${got}`);
  }
  const snapshots = join(images, 'snapshots');
  for (const name of entries(snapshots)) {
    if (name.startsWith('.tmp-')) {
      if (opts.finished) out.push(`snapshots/${name}: an unpack left behind`);
      continue;
    }
    if (!/^[0-9a-f]{64}$/.test(name)) {
      out.push(`snapshots/${name}: not a diff ID`);
      continue;
    }
    const layerJson = join(snapshots, name, 'layer.json');
    if (!isFile(layerJson)) {
      out.push(`snapshots/${name}: no layer.json`);
      continue;
    }
    if (!statSync(join(snapshots, name, 'fs'), { throwIfNoEntry: false })?.isDirectory()) out.push(`snapshots/${name}: no fs/`);
    const info = JSON.parse(readFileSync(layerJson, 'utf8')) as { diffID?: unknown };
    if (info.diffID !== `sha256:${name}`) out.push(`snapshots/${name}/layer.json: diffID ${JSON.stringify(info.diffID)}`);
  }
  if (opts.finished) for (const name of entries(join(images, 'ingest'))) out.push(`ingest/${name}: a download left behind`);
  return out;
}

/** A store image as `images -o json` prints it: its record without the host paths of its layers. */
export type ImageJson = Omit<ImageRecord, 'layers' | 'config'> & { config: Record<string, unknown> };

/** `images -o json`, which must succeed. */
export async function imagesJson(scratch: Scratch, images: string): Promise<ImageJson[]> {
  const r = await imageCli(scratch, images, ['images', '-o', 'json']);
  assert.is(r.exitCode, 0, r.all);
  return JSON.parse(r.stdout) as ImageJson[];
}

/** The names in the store, sorted. */
export async function imageNames(scratch: Scratch, images: string): Promise<string[]> {
  return (await imagesJson(scratch, images)).flatMap((i) => i.names).sort();
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

export interface ImageContext {
  scratch: Scratch;
  /** The test's own image store: `images` for --images, in `dir`, which holds nothing else unless the test puts it there. */
  store: { dir: string; images: string };
}

/**
 * kernelSuite for the image tests: each test gets a scratch state root and
 * an image store of its own (both removed after it), and must leave the
 * mount table, the process table, the cgroups and its state root as it
 * found them. `setup` runs once before the first test (a registry, built
 * and pushed images) and what it hands to `teardown` is stopped after the
 * last, whatever happened. Without root every test is skipped, saying why:
 * unpacking keeps owners, device nodes and trusted.* xattrs. A test that
 * ran no pod (its state root was never made) leaves the cgroups unchecked:
 * it made none, and the pods other suites on the machine run come and go
 * meanwhile.
 */
export function imageSuite<T>(name: string, setup: () => Promise<T>, teardown: (value: T | undefined) => Promise<void>) {
  const s = suite(name);
  let value: T | undefined;
  if (!isRoot) console.log(`  skipping "${name}": unpacking layers keeps owners, device nodes and trusted.* xattrs, which needs root`);
  else {
    s.before(async () => {
      const t0 = performance.now();
      try {
        value = await setup();
      } catch (err) {
        // uvu fails every test of a suite whose hook threw, without saying why.
        console.error(`    ${name}: set-up failed: ${(err as Error)?.stack ?? String(err)}`);
        throw err;
      }
      console.log(`    ${name}: set up in ${Math.round(performance.now() - t0)} ms`);
    });
    s.after(() => teardown(value));
  }
  const test = (title: string, fn: (ctx: ImageContext & { env: T }) => Promise<unknown>) => {
    if (!isRoot) return s.skip(title);
    s(title, async () => {
      const scratch = new Scratch();
      const store = tempStore('images-test');
      const before = snapshot();
      let failure: unknown = null;
      try {
        await fn({ scratch, store, env: value as T });
      } catch (err) {
        failure = err;
      }
      try {
        await assertBaseline(existsSync(scratch.root) ? before : { ...before, cgroups: minipodCgroups() }, scratch.root);
      } catch (err) {
        if (failure) console.error(`  and "${title}" also left something behind: ${(err as Error).message}`);
        failure ??= err;
      } finally {
        scratch.remove();
        store.remove();
      }
      if (failure) throw failure;
    });
  };
  const skip = (title: string, why: string) => {
    console.log(`  skipping "${title}": ${why}`);
    s.skip(title);
  };
  return { test, skip, run: () => s.run() };
}

/** An xattr of PATH (not following a symlink) in hex, read with python3 (Node has no getxattr); null when it has none. */
export function xattrHex(path: string, name: string): string | null {
  const script = 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print("none")';
  const r = execaSync('python3', ['-c', script, path, name], { reject: false });
  if (r.exitCode !== 0) throw new Error(`python3 getxattr ${path} ${name}: ${r.stderr || r.message}`);
  return r.stdout.trim() === 'none' ? null : r.stdout.trim();
}
