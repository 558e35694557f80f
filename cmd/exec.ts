import { MinipodError } from '../lib/errors.ts';
import type { Globals } from './globals.ts';
import type { VerbArgs } from './verb.ts';

export const summary = 'Runs a command in a running container (not yet: see issue #5).';
export const usage = 'minipod [--root DIR] exec [-i] [-t] POD CONTAINER -- CMD [ARG...]';
export const options = { interactive: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' } } as const;

export async function run(_args: VerbArgs, _globals: Globals): Promise<number> {
  throw new MinipodError('exec is not implemented yet');
}
