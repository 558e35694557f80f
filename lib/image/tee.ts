// One stream read by two consumers at once (a layer's bytes stored as its
// blob and unpacked as they arrive), at the pace of the slower: Node's pipe
// to several destinations pauses the source while any of them is full.
import { PassThrough, Readable } from 'node:stream';

/**
 * Run `primary` and `secondary` over copies of `source`. The primary's
 * failure (or the source's) stops both: it says what was wrong with the
 * bytes. The secondary's failure only lets go of its copy, so the primary
 * reads on to the end: whether the bytes were the ones announced decides
 * which of the two failures is the one to report, and the caller has both.
 * A consumer that ends without reading all holds the other back no more.
 */
export async function consumeTogether<P, S>(
  source: AsyncIterable<Uint8Array>,
  primary: (copy: AsyncIterable<Uint8Array>) => Promise<P>,
  secondary: (copy: AsyncIterable<Uint8Array>) => Promise<S>,
): Promise<[PromiseSettledResult<P>, PromiseSettledResult<S>]> {
  const input = Readable.from(source, { objectMode: false });
  const copies = [primary, secondary].map(() => {
    const copy = input.pipe(new PassThrough());
    // Its reader learns of an error by reading; one that stopped reading must not turn it into a crash.
    copy.on('error', () => {});
    return copy;
  });
  const stopAll = (err: unknown) => {
    input.destroy();
    for (const copy of copies) copy.destroy(err as Error);
  };
  input.once('error', stopAll);
  const run = async <T>(consume: (copy: AsyncIterable<Uint8Array>) => Promise<T>, copy: PassThrough, stops: boolean): Promise<T> => {
    try {
      return await consume(copy);
    } catch (err) {
      if (stops) stopAll(err);
      throw err;
    } finally {
      // Read to its end or not, it no longer holds the other back.
      input.unpipe(copy);
      copy.resume();
    }
  };
  return Promise.all([
    run(primary, copies[0]!, true).then(settled<P>, rejected),
    run(secondary, copies[1]!, false).then(settled<S>, rejected),
  ]);
}

const settled = <T>(value: T): PromiseFulfilledResult<T> => ({ status: 'fulfilled', value });
const rejected = (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason });
