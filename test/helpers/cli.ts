import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { isDeno } from '../../lib/sys/host.ts';

const repo = resolve(import.meta.dirname ?? join(new URL('.', import.meta.url).pathname), '../..');

/**
 * The CLI under test runs on the runtime running the tests: the bundle under
 * Node, the sources under Deno. So `make test` exercises both end to end.
 */
export const cliCommand: [string, string[]] = isDeno
  ? [process.execPath, ['run', '-A', join(repo, 'cmd/minipod.ts')]]
  : [process.execPath, [join(repo, 'dist/minipod.cjs')]];

export const isRoot = process.getuid?.() === 0;

/** A scratch area for one test: a state root for --root and a place for manifests. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'minipod-it-'));
  readonly root = join(this.dir, 'state');

  /** Write a manifest (an object becomes JSON; a string is written as is) and return its path. */
  manifest(name: string, content: object | string): string {
    const path = join(this.dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  /** `minipod --root <scratch> ARGS`; never throws on a non-zero exit. */
  minipod(args: string[], options: { timeout?: number } = {}): ResultPromise<{ reject: false; timeout: number; all: true }> {
    const [cmd, pre] = cliCommand;
    return execa(cmd, [...pre, '--root', this.root, ...args], {
      reject: false,
      timeout: options.timeout ?? 30_000,
      all: true,
      cwd: repo,
      env: { NO_COLOR: '1' },
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Kubernetes v1 Pod with busybox containers running `sh -c SCRIPT`. */
export function pod(name: string, containers: Record<string, string>, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      ...spec,
      containers: Object.entries(containers).map(([cname, script]) => ({
        name: cname,
        image: 'busybox',
        command: ['sh', '-c', script],
      })),
    },
  };
}

/** A pod of one container `c` running exactly `command` in `image`. */
export function commandPod(name: string, command: string[], image = 'busybox') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image, command }] },
  };
}

/** The lines one container printed, without the `NAME | ` prefix. */
export function linesOf(output: string, container: string): string[] {
  const prefix = `${container} | `;
  return output.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

/** A new directory of the scratch area, as a hostPath volume NAME and its mount on /NAME. */
export function hostDir(scratch: Scratch, name: string) {
  const dir = join(scratch.dir, name);
  mkdirSync(dir);
  return { dir, volume: { name, hostPath: { path: dir, type: 'Directory' } }, mount: { name, mountPath: `/${name}` } };
}

/** Polls `check` until it returns a value (not undefined), for up to `ms`. */
export async function waitFor<T>(check: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pod directories (12-hex ids) of a state root; its logs directory and the supervisor's files are not pods. */
export function podIds(root: string): string[] {
  return existsSync(root) ? readdirSync(root).filter((name) => /^[0-9a-f]{12}$/.test(name)) : [];
}
