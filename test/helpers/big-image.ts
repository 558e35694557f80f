// The pull benchmark's images: `base`, ~100 MiB in 5 gzip layers (the
// busybox rootfs and deterministic pseudo-random files), and `next`, the
// same first 4 layers and a fifth of its own (only that one should be
// fetched after `base`). Built once into a cache directory, under a key that
// names the version of this recipe and the size, and renamed into place
// whole, so a half-built cache is never used.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, type BuiltImage, type Entry, type ImageSpec, type LayerSpec } from './oci-layout.ts';
import { prng } from './reliability.ts';
import { BUSYBOX_CONFIG, busyboxLayers } from './test-images.ts';

/** Bump when what bigImage builds changes: a cache of another version is not used. */
export const BIG_IMAGE_VERSION = 1;
const LAYERS = 5;

export interface BigImage {
  layoutDir: string;
  /** The layout's `base` ref: 5 layers. */
  base: BuiltImage;
  /** The layout's `next` ref: base's first 4 layers and one more. */
  next: BuiltImage;
  mib: number;
}

/** The cached build for `mib` (100 unless said) in CACHEDIR, built first if missing. */
export async function bigImage(cacheDir: string, opts: { mib?: number } = {}): Promise<BigImage> {
  const mib = opts.mib ?? 100;
  const final = join(cacheDir, `big-v${BIG_IMAGE_VERSION}-${mib}mib`);
  if (!existsSync(join(final, 'built.json'))) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = join(cacheDir, `.tmp-big-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      const base = await buildImage(bigSpec(mib, 'base'), { dir: join(tmp, 'layout'), ref: 'base' });
      const next = await buildImage(bigSpec(mib, 'next'), { dir: join(tmp, 'layout'), ref: 'next' });
      writeFileSync(join(tmp, 'built.json'), JSON.stringify({ base, next, mib }));
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      // Another process built it meanwhile: its copy is as good.
      if (!existsSync(join(final, 'built.json'))) throw err;
    }
  }
  const layoutDir = join(final, 'layout');
  const built = JSON.parse(readFileSync(join(final, 'built.json'), 'utf8')) as { base: BuiltImage; next: BuiltImage };
  return { layoutDir, base: { ...built.base, layoutDir }, next: { ...built.next, layoutDir }, mib };
}

/**
 * Each layer is MIB/5 of files; layer 1 starts with busybox. Half the bytes
 * are random (incompressible), half text over a 16-letter alphabet (gzip
 * halves it), in many small files (1-16 KiB: where an unpacker's time per
 * file shows) and a few large ones (256 KiB-2 MiB: where its throughput does).
 */
export function bigSpec(mib: number, variant: 'base' | 'next'): ImageSpec {
  const perLayer = Math.floor((mib * 1024 * 1024) / LAYERS);
  const layers: LayerSpec[] = [];
  for (let k = 1; k <= LAYERS; k++) {
    const seed = variant === 'next' && k === LAYERS ? 1000 + k : k;
    const head = k === 1 ? busyboxLayers(1)[0]!.entries : [];
    const headBytes = head.reduce((n, e) => n + (e.type === 'file' ? e.content.length : 0), 0);
    layers.push({ compression: 'gzip', entries: [...head, ...fillerFiles(`data/${k}-${seed}`, perLayer - headBytes, seed)] });
  }
  return { layers, config: { ...BUSYBOX_CONFIG, Labels: { 'org.minipod.bench': `big-v${BIG_IMAGE_VERSION}-${variant}` } } };
}

function fillerFiles(dir: string, bytes: number, seed: number): Entry[] {
  const random = prng(seed);
  const u32 = () => (random() * 0x100000000) >>> 0;
  const entries: Entry[] = [{ type: 'dir', path: 'data' }, { type: 'dir', path: dir }];
  let left = bytes;
  for (let i = 0; left > 0; i++) {
    const large = i % 10 === 9;
    const size = Math.min(left, large ? 256 * 1024 + (u32() % (1792 * 1024)) : 1024 + (u32() % (15 * 1024)));
    const content = Buffer.alloc(size);
    const text = large ? Math.floor(i / 10) % 2 === 0 : i % 2 === 0;
    for (let off = 0; off < size; off += 4) {
      const word = u32();
      for (let b = 0; b < 4 && off + b < size; b++) {
        const byte = (word >>> (b * 8)) & 0xff;
        content[off + b] = text ? 0x61 + (byte & 15) : byte;
      }
    }
    entries.push({ type: 'file', path: `${dir}/${String(i).padStart(5, '0')}${text ? '.txt' : '.bin'}`, content });
    left -= size;
  }
  return entries;
}
