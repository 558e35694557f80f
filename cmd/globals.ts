import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeFiles } from '../lib/context.ts';
import { isDeno } from '../lib/sys/host.ts';

/** What every verb gets from the options before it (`minipod --root DIR run ...`) and from the install. */
export interface Globals {
  /** Runtime state: one directory per pod. */
  root: string;
  /** The local image store: <images>/<name>/rootfs. */
  images: string;
  files: RuntimeFiles;
  /** How to run this minipod again (the shared supervisor is minipod itself): the runtime and its entry point. */
  self: [string, string[]];
}

// Both the bundle (dist/minipod.cjs) and the sources (cmd/minipod.ts) sit one
// level below the package root, where `make` puts build/ and images/.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export function globalsFrom(values: { root?: string; images?: string }, env: Record<string, string | undefined>): Globals {
  return {
    root: resolve(values.root ?? env.MINIPOD_ROOT ?? '/run/minipod'),
    images: resolve(values.images ?? env.MINIPOD_IMAGES ?? join(packageRoot, 'images')),
    files: { pause: join(packageRoot, 'build', 'pause'), init: join(packageRoot, 'build', 'minipod-init') },
    self: [process.execPath, [...(isDeno ? ['run', '-A'] : []), process.argv[1]!]],
  };
}
