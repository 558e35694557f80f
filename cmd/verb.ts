import type { ParseArgsConfig } from 'node:util';
import type { Globals } from './globals.ts';

export type VerbArgs = {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
};

/** Each verb is a module exporting these, loaded only when used: start-up pays for one verb. */
export interface Verb {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: VerbArgs, globals: Globals): Promise<number>;
}
