// Who a container runs as, decided as containerd's CRI plugin decides it
// (WithUser, WithUserID, WithAdditionalGIDs): the pod's securityContext
// first, then the image's User, names looked up in the image's own
// /etc/passwd and /etc/group, never the host's.
import { MinipodError } from '../errors.ts';
import type { UserPlan } from '../spec/plan-types.ts';
import { readInLayers } from './layered.ts';

interface Entry {
  name: string;
  id: number;
  /** passwd: the primary group; group: unused. */
  gid: number;
  /** group: the member user names. */
  members: string[];
}

function parseDb(text: string | null, kind: 'passwd' | 'group'): Entry[] {
  const entries: Entry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < (kind === 'passwd' ? 7 : 4)) continue;
    const id = Number(f[2]);
    if (!/^\d+$/.test(f[2]!) || !Number.isSafeInteger(id)) continue;
    entries.push({
      name: f[0]!,
      id,
      gid: kind === 'passwd' ? Number(f[3]) || 0 : id,
      members: kind === 'group' ? f[3]!.split(',').filter(Boolean) : [],
    });
  }
  return entries;
}

export interface UserRequest {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  /** The image config's User: "", "uid", "name", "uid:gid", "name:group". */
  imageUser?: string;
}

const isId = (s: string) => /^\d+$/.test(s);

/** The user a container runs as, in the image of `layers` (bottom first); `context` starts every error message. */
export function resolveUser(layers: readonly string[], req: UserRequest, context: string): UserPlan {
  const passwd = parseDb(readInLayers(layers, '/etc/passwd'), 'passwd');
  const groupDb = parseDb(readInLayers(layers, '/etc/group'), 'group');
  let uid: number;
  let gid = 0;
  let name: string | undefined;
  if (req.runAsUser !== undefined) {
    uid = req.runAsUser;
    const entry = passwd.find((e) => e.id === uid);
    gid = entry?.gid ?? 0;
    name = entry?.name;
  } else {
    const [user = '', group] = (req.imageUser ?? '').split(':');
    const entry = user === '' ? passwd.find((e) => e.id === 0) : passwd.find((e) => (isId(user) ? e.id === Number(user) : e.name === user));
    if (user !== '' && !isId(user) && !entry) {
      throw new MinipodError(`${context}: image user "${user}": no such user in the image's /etc/passwd`);
    }
    uid = isId(user) ? Number(user) : (entry?.id ?? 0);
    gid = entry?.gid ?? 0;
    name = entry?.name;
    if (group !== undefined) {
      const found = isId(group) ? Number(group) : groupDb.find((e) => e.name === group)?.id;
      if (found === undefined) throw new MinipodError(`${context}: image group "${group}": no such group in the image's /etc/group`);
      gid = found;
    }
  }
  if (req.runAsGroup !== undefined) gid = req.runAsGroup;
  const memberOf = name === undefined ? [] : groupDb.filter((e) => e.members.includes(name)).map((e) => e.id);
  const groups = [...new Set([gid, ...memberOf, ...(req.supplementalGroups ?? [])])];
  return { uid, gid, groups };
}

/** kubelet's verifyRunAsNonRoot, with its wording; null when the user may run. */
export function nonRootViolation(req: UserRequest, user: UserPlan): string | null {
  if (req.runAsUser !== undefined) return req.runAsUser === 0 ? "container's runAsUser breaks non-root policy" : null;
  const imageUser = (req.imageUser ?? '').split(':')[0]!;
  if (imageUser !== '' && !isId(imageUser)) {
    return `container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root`;
  }
  return user.uid === 0 ? 'container has runAsNonRoot and image will run as root' : null;
}
