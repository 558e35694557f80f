// The images of the pull benchmark (issue #11), for bench scripts in sh:
// built once into a cache (test/helpers/big-image.ts), and served by a real
// registry for as long as a benchmark needs it.
// usage: node --import tsx bench/images.ts build [--cache DIR] [--mib N]
//          prints JSON: the layout, the `base` and `next` images (5 gzip
//          layers, the first 4 shared), each layer's blob file
//        node --import tsx bench/images.ts serve [--cache DIR] [--mib N]
//          the same, then a docker-registry on 127.0.0.1 holding them as
//          HOST/big:base and HOST/big:next; prints one JSON line (with
//          `host` and `base.reference`, `next.reference`) once they are
//          pushed, and runs until SIGTERM or SIGINT, then stops the registry
//          (its pid and temp dir gone) and exits 0.
// --cache defaults to bench/results/tmp/images (not committed); --mib to 100.
// bench/images.sh wraps `serve` for sh scripts.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bigImage, type BigImage } from '../test/helpers/big-image.ts';
import type { BuiltImage } from '../test/helpers/oci-layout.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { pushImage } from '../test/helpers/skopeo.ts';

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { cache: { type: 'string' }, mib: { type: 'string' } },
});
const [verb] = positionals;
if (verb !== 'build' && verb !== 'serve') {
  console.error('usage: node --import tsx bench/images.ts build|serve [--cache DIR] [--mib N]');
  process.exit(2);
}
const cacheDir = resolve(values.cache ?? join(repo, 'bench/results/tmp/images'));
const mib = Number(values.mib ?? 100);
if (!(mib > 0)) {
  console.error(`bench/images.ts: --mib must be a positive number, not ${JSON.stringify(values.mib)}`);
  process.exit(2);
}
const t0 = performance.now();
const big = await bigImage(cacheDir, { mib });
const buildMs = Math.round(performance.now() - t0);

const describe = (image: BuiltImage) => ({
  ref: image.ref,
  manifest: image.manifest.digest,
  layers: image.layers.map((l) => ({ digest: l.digest, size: l.size, tarSize: l.tarSize, file: join(image.layoutDir, 'blobs', 'sha256', l.digest.slice(7)) })),
});
const summary = (b: BigImage) => ({ layoutDir: b.layoutDir, mib: b.mib, buildMs, base: describe(b.base), next: describe(b.next) });

if (verb === 'build') {
  console.log(JSON.stringify(summary(big)));
} else {
  const registry = await startRegistry();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(alive);
    await registry.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The registry is unref()ed: this keeps the process up until a signal.
  const alive = setInterval(() => {}, 1 << 30);
  try {
    await pushImage(big.layoutDir, registry.host, 'big:base', { ref: 'base' });
    await pushImage(big.layoutDir, registry.host, 'big:next', { ref: 'next' });
  } catch (err) {
    console.error(`bench/images.ts: ${(err as Error).message}`);
    await registry.stop();
    process.exit(1);
  }
  console.log(JSON.stringify({
    ...summary(big),
    host: registry.host,
    base: { ...describe(big.base), reference: `${registry.host}/big:base` },
    next: { ...describe(big.next), reference: `${registry.host}/big:next` },
  }));
}
