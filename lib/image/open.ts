import { openHost } from '../sys/host.ts';
import { ImageStore } from './store.ts';
import { unpackLayer } from './unpack.ts';

/** The store in `dir`, with the real unpacker and the host's libc (its locks, and unpacking). */
export async function openImageStore(dir: string): Promise<ImageStore> {
  const { libc } = await openHost();
  return new ImageStore(dir, { libc, unpack: unpackLayer });
}
