import { MinipodError } from '../errors.ts';
import { resolveInLayers } from '../image/layered.ts';
import { MOUNT_POINTS } from './plan.ts';

/**
 * Check that the image (its layers, bottom first) has real directories
 * where the runtime mounts /proc, /dev and /sys, and return the missing
 * ones (the container's layer gets them, as crun creates them); a symlink
 * or file there is refused, because a mount onto it would land wherever it
 * points. The error names the layer that has it.
 */
export function checkMountPoints(layers: readonly string[]): string[] {
  const missing: string[] = [];
  for (const name of MOUNT_POINTS) {
    const found = resolveInLayers(layers, `/${name}`, { followLast: false });
    if (!found) {
      missing.push(name);
      continue;
    }
    if (!found.stat.isDirectory()) {
      const layer = found.host.slice(0, -(name.length + 1));
      throw new MinipodError(`rootfs ${layer}: /${name} must be a directory, found ${found.stat.isSymbolicLink() ? 'a symlink' : 'a file'}`);
    }
  }
  return missing;
}
