import { MinipodError } from '../lib/errors.ts';
import type { Globals } from './globals.ts';
import { planFromFile } from './manifest.ts';
import type { VerbArgs } from './verb.ts';

export const summary = 'Checks a manifest, and that its images are present (paths, directory images, and pulled or loaded ones: it pulls nothing), without running anything. Exits 0 when it would run, 125 when not.';
export const usage = 'minipod [GLOBAL OPTIONS] validate FILE';
export const options = {} as const;

export async function run({ positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new MinipodError(`usage: ${usage}`);
  const { plan } = await planFromFile(file, globals.images);
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const init = plan.initContainers.length ? `${count(plan.initContainers.length, 'init container')}, ` : '';
  process.stdout.write(`${file}: pod "${plan.name}" is valid (${init}${count(plan.containers.length, 'container')})\n`);
  return 0;
}
