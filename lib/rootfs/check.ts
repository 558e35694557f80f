import { lstatSync } from 'node:fs';
import { MinipodError } from '../errors.ts';
import { MOUNT_POINTS } from './plan.ts';

/**
 * Check that the image has real directories where the runtime mounts /proc,
 * /dev and /sys, and return the missing ones (the container's layer gets
 * them, as crun creates them); a symlink or file there is refused, because
 * a mount onto it would land wherever it points.
 */
export function checkMountPoints(rootfs: string): string[] {
  const missing: string[] = [];
  for (const name of MOUNT_POINTS) {
    const path = `${rootfs}/${name}`;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) {
      missing.push(name);
      continue;
    }
    if (!stat.isDirectory()) {
      throw new MinipodError(`rootfs ${rootfs}: /${name} must be a directory, found ${stat.isSymbolicLink() ? 'a symlink' : 'a file'}`);
    }
  }
  return missing;
}
