// Option values the verbs share, checked the same way everywhere: one line
// naming the option on a bad value (exit 125).
import { MinipodError } from '../lib/errors.ts';
import type { VerbArgs } from './verb.ts';

/** One of `supported`, the first when the option is not given. */
export function oneOf<T extends string>(value: VerbArgs['values'][string], option: string, supported: readonly T[]): T {
  if (value === undefined) return supported[0]!;
  const found = supported.find((o) => o === value);
  if (!found) {
    throw new MinipodError(`--${option}: Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((o) => `"${o}"`).join(', ')}`);
  }
  return found;
}

/** A number of seconds, fractions allowed, or undefined when not given. */
export function seconds(value: VerbArgs['values'][string], option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new MinipodError(`--${option}: Invalid value: ${JSON.stringify(value)}: must be a number of seconds >= 0`);
  }
  return n;
}
