import { openHost } from '../sys/host.ts';
import { ImageStore } from './store.ts';
import type { Unpacker } from './snapshots.ts';

// Loaded when a layer is unpacked, not when a pod only reads the store:
// the unpacker brings tar-stream, zlib and fzstd.
const unpack: Unpacker = async (...args) => (await import('./unpack.ts')).unpackLayer(...args);

/** The store in `dir`, with the real unpacker and the host's libc (its locks, and unpacking). */
export async function openImageStore(dir: string): Promise<ImageStore> {
  const { libc } = await openHost();
  return new ImageStore(dir, { libc, unpack });
}
