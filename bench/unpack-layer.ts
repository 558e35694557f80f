// One timed extraction of a layer file, for bench/unpack.sh. Prints one line
// of JSON: {"ms": N}. The clock runs from opening the file to the last entry
// written, inside the process (a pull unpacks in-process: the runtime's
// start-up is not part of it).
// usage: node --import tsx bench/unpack-layer.ts WHAT FILE DEST   |   deno run -A bench/unpack-layer.ts ...
//   minipod     lib/image/unpack.ts (any compression)
//   tar-stream  tar-stream's extract alone, contents read and dropped: the parser's share
//   node-tar    npm's own copy of node-tar (tar.x), if this machine has npm (plain and gzip)
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { extract } from 'tar-stream';
import { decompressed } from '../lib/image/decompress.ts';
import { unpackLayer } from '../lib/image/unpack.ts';
import { openHost } from '../lib/sys/host.ts';

const NODE_TAR = '/usr/lib/node_modules/npm/node_modules/tar';

const [what, file, dest] = process.argv.slice(2);
if (!what || !file || !dest) throw new Error('usage: bench/unpack-layer.ts minipod|tar-stream|node-tar FILE DEST');

const host = await openHost();
const started = performance.now();
if (what === 'minipod') {
  await unpackLayer(createReadStream(file, { highWaterMark: 1 << 20 }), 'application/vnd.oci.image.layer.v1.tar', dest, { libc: host.libc, maxUnpackedSize: 2 ** 40 });
} else if (what === 'tar-stream') {
  const { chunks } = await decompressed(createReadStream(file, { highWaterMark: 1 << 20 }));
  const parser = extract();
  const reading = (async () => {
    for await (const entry of parser) for await (const _ of entry);
  })();
  for await (const chunk of chunks) if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', () => resolve(null)));
  parser.end(null);
  await reading;
} else if (what === 'node-tar') {
  const tar = createRequire(import.meta.url)(NODE_TAR) as { x(options: { file: string; cwd: string }): Promise<void> };
  await tar.x({ file, cwd: dest });
} else {
  throw new Error(`unknown: ${what}`);
}
console.log(JSON.stringify({ ms: performance.now() - started }));
