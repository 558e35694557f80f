import { lstatSync, mkdirSync } from 'node:fs';
import { MinipodError } from '../errors.ts';
import { MOUNT_POINTS } from './plan.ts';

/**
 * Make sure the image has real directories where the runtime mounts /proc,
 * /dev and /sys. Missing ones are created, as crun does; a symlink or file
 * there is refused, because a mount onto it would land wherever it points.
 */
export function checkMountPoints(rootfs: string): void {
  for (const name of MOUNT_POINTS) {
    const path = `${rootfs}/${name}`;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      mkdirSync(path, { mode: 0o755 });
      continue;
    }
    if (!stat.isDirectory()) {
      throw new MinipodError(`rootfs ${rootfs}: /${name} must be a directory, found ${stat.isSymbolicLink() ? 'a symlink' : 'a file'}`);
    }
  }
}
