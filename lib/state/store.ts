// The pods under a state root, as their state files tell: what ps lists and
// what every verb taking a POD argument looks up (by name, or by id or an
// unambiguous prefix of it, as podman does).
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError } from '../errors.ts';
import type { PodRecord } from './record.ts';

/** The directory of the logs, kept apart from the pod's so that gc can leave them. */
export const logsRoot = (root: string) => join(root, 'logs');

/** Where a container's CRI log files are, one per run, as the kubelet lays out /var/log/pods: <logDir>/<container>/<restart>.log. */
export const containerLogDir = (logDir: string, container: string) => join(logDir, container);
export const containerLogFile = (logDir: string, container: string, restart: number) => join(containerLogDir(logDir, container), `${restart}.log`);

/** A pod's log directory, and the logs root with it when it was the last. */
export function removeLogs(root: string, logDir: string): void {
  rmSync(logDir, { recursive: true, force: true });
  try {
    rmdirSync(logsRoot(root));
  } catch {
    // other pods' logs are there
  }
}

const POD_ID = /^[0-9a-f]{12}$/;

export function listPods(root: string): PodRecord[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => POD_ID.test(n)).flatMap((id) => {
    try {
      return [JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as PodRecord];
    } catch {
      return []; // being made, or being removed
    }
  }).sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * Pod directories with no state record. A pod's directory and its first
 * record are made together under the state root's lock (launchPod), so to
 * a holder of that lock such a directory is what a supervisor killed
 * between the two left behind.
 */
export function unrecordedPodDirs(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => POD_ID.test(n) && !existsSync(join(root, n, 'state.json'))).map((n) => join(root, n));
}

export function findPod(root: string, ref: string): PodRecord {
  const pods = listPods(root);
  const byName = pods.filter((p) => p.name === ref);
  if (byName.length === 1) return byName[0]!;
  // Ids by a prefix of three characters or more: shorter ones say too little to be typed on purpose.
  const byId = ref.length >= 3 ? pods.filter((p) => p.id.startsWith(ref)) : [];
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) throw new MinipodError(`pod id prefix "${ref}" is ambiguous: ${byId.map((p) => p.id).join(', ')}`);
  throw new MinipodError(`no pod "${ref}" in ${root}`);
}
