// One stream read by two consumers at once (a layer's bytes stored as its
// blob and unpacked as they arrive), at the pace of the slower: Node's pipe
// to several destinations pauses the source while any of them is full.
import { PassThrough, Readable } from 'node:stream';

/**
 * Run `consumers` over copies of `source`. A consumer that ends without
 * reading all lets the others go on; one that fails stops the source and
 * the others, and its error is the one thrown.
 */
export async function consumeTogether<T extends unknown[]>(
  source: AsyncIterable<Uint8Array>,
  consumers: { [K in keyof T]: (copy: AsyncIterable<Uint8Array>) => Promise<T[K]> },
): Promise<T> {
  const input = Readable.from(source, { objectMode: false });
  const copies = consumers.map(() => input.pipe(new PassThrough()));
  let failure: { err: unknown } | null = null;
  const stopAll = (err: unknown) => {
    failure ??= { err };
    input.destroy();
    for (const copy of copies) copy.destroy(err as Error);
  };
  input.once('error', stopAll);
  const results = await Promise.allSettled(consumers.map(async (consume, i) => {
    const copy = copies[i]!;
    try {
      return await consume(copy);
    } catch (err) {
      stopAll(err);
      throw err;
    } finally {
      // Read to its end or not, it no longer holds the others back.
      input.unpipe(copy);
      copy.resume();
    }
  }));
  if (failure) throw (failure as { err: unknown }).err;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}
