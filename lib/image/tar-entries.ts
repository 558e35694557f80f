// A tar stream's entries, read from any async iterable of bytes with
// tar-stream: the input is pulled only as fast as the entries are consumed,
// and a consumer that stops early (or throws) stops the reading of the input.
import * as tar from 'tar-stream';

export type TarEntry = AsyncIterable<Uint8Array> & { header: tar.Header; resume(): unknown };

export async function* tarEntries(input: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const extract = tar.extract();
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        extract.off('drain', done);
        extract.off('close', done);
        resolve();
      };
      extract.on('drain', done);
      extract.on('close', done);
    });
  const feed = (async () => {
    try {
      for await (const chunk of input) {
        if (extract.destroyed) return;
        if (!extract.write(chunk)) await writable();
      }
      extract.end(null);
    } catch (err) {
      extract.destroy(err as Error);
    }
  })();
  try {
    for await (const entry of extract) yield entry as unknown as TarEntry;
  } finally {
    extract.destroy();
    await feed;
  }
}
