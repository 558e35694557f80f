import * as assert from 'uvu/assert';

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
