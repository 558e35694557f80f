// Volume sources, made ready on the host before the sandbox starts: each
// emptyDir gets its directory in the pod's state directory (the pod's own,
// removed with it), each hostPath is checked against its type, or created,
// with the kubelet's rules and wording.
import { chmodSync, closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { MinipodError } from '../errors.ts';
import type { HostPathType } from '../spec/manifest.ts';
import type { VolumePlan } from '../spec/plan-types.ts';
import type { PodDir } from '../state/pod-dir.ts';

const KINDS: Record<Exclude<HostPathType, '' | 'DirectoryOrCreate' | 'FileOrCreate'>, [(s: Stats) => boolean, string]> = {
  Directory: [(s) => s.isDirectory(), 'a directory'],
  File: [(s) => s.isFile(), 'a file'],
  Socket: [(s) => s.isSocket(), 'a socket file'],
  CharDevice: [(s) => s.isCharacterDevice(), 'a character device'],
  BlockDevice: [(s) => s.isBlockDevice(), 'a block device'],
};

/** Volume name -> its source directory (or file) as the pod's mount namespace sees it. */
export function prepareVolumes(volumes: readonly VolumePlan[], dir: PodDir): Map<string, string> {
  const sources = new Map<string, string>();
  for (const volume of volumes) {
    try {
      sources.set(volume.name, volume.kind === 'emptyDir' ? emptyDir(dir, volume.name) : hostPath(volume.path, volume.type));
    } catch (err) {
      const reason = err instanceof MinipodError ? err.message : (err as Error).message;
      throw new MinipodError(`MountVolume.SetUp failed for volume "${volume.name}": ${reason}`, { cause: err });
    }
  }
  return sources;
}

// 0777 as the kubelet makes it: containers running as any user can write.
function emptyDir(dir: PodDir, name: string): string {
  const path = join(dir.volumes, name);
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  return path;
}

function hostPath(path: string, type: HostPathType): string {
  if (type === '') return path; // no check, as in Kubernetes: the mount itself fails if nothing is there
  const stat = statSync(path, { throwIfNoEntry: false });
  if (type === 'DirectoryOrCreate' || type === 'FileOrCreate') {
    const directory = type === 'DirectoryOrCreate';
    if (!stat) {
      if (directory) mkdirSync(path, { recursive: true, mode: 0o755 });
      else closeSync(openSync(path, 'a', 0o644)); // the parent must exist, as in Kubernetes
      return path;
    }
    if (directory ? !stat.isDirectory() : !stat.isFile()) {
      throw new MinipodError(`hostPath type check failed: ${path} is not ${directory ? 'a directory' : 'a file'}`);
    }
    return path;
  }
  // The kubelet's words for a missing path too.
  const [matches, what] = KINDS[type];
  if (!stat || !matches(stat)) throw new MinipodError(`hostPath type check failed: ${path} is not ${what}`);
  return path;
}
