import * as assert from 'uvu/assert';
import { MinipodError } from '../../lib/errors.ts';

/** uvu/assert has no async throws: the promise must reject with a message matching `pattern`. */
export async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return err as Error;
  }
  throw new assert.Assertion({ message: `expected a rejection matching ${pattern}`, generated: true, operator: 'rejects', expects: pattern, actual: undefined });
}

/** The message of the MinipodError `fn` throws; fails the test if it throws nothing or anything else. */
export function minipodError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MinipodError);
    return (err as Error).message;
  }
  throw new assert.Assertion({ message: 'expected a MinipodError', generated: true, operator: 'throws', expects: MinipodError, actual: undefined });
}
