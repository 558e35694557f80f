// Where each cgroup controller minipod uses lives, read off the texts of
// /proc/self/mountinfo and /proc/self/cgroup the way runc does
// (libcontainer/cgroups: getCgroupMountsHelper and getCgroupPathHelper in
// v1_utils.go, ParseCgroupFile in utils.go). The caller reads the files: this
// module only reads the text it is given.
import { MinipodError } from '../errors.ts';

export type Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids';

export interface Hierarchy {
  version: 1 | 2;
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup. */
  mount: string;
  /**
   * This process's cgroup inside that mount, '/'-rooted, with the mount's own
   * root (mountinfo field 4) taken off: a bind of a sub-cgroup, as in
   * containers, mounts /kubepods/x as '/'.
   */
  path: string;
}

export interface CgroupLayout {
  /**
   * 'v2': one unified hierarchy at /sys/fs/cgroup-style mount holds
   * everything; 'v1': only v1 hierarchies; 'hybrid': v1 controllers plus a
   * cgroup2 mount (systemd's /sys/fs/cgroup/unified).
   */
  mode: 'v2' | 'v1' | 'hybrid';
  /**
   * Per controller minipod uses, the hierarchy it is in, or null when the
   * machine has it nowhere. v2 when the v2 hierarchy offers it (its
   * cgroup.controllers at this process's cgroup lists it), else v1, else v2
   * again when the v2 hierarchy has it but has not delegated it down to this
   * cgroup. cpuacct only exists on v1 (on v2, cpu.stat carries the usage).
   */
  controllers: Record<Controller, Hierarchy | null>;
}

interface Mount {
  root: string;
  mountpoint: string;
  fstype: string;
  superopts: string[];
}

/** Where distributions mount cgroups; another mount of the same hierarchy (a container runtime's bind, say) is a second choice. */
const CGROUP_DIR = '/sys/fs/cgroup';

/** `v2Controllers(dir)` returns the text of DIR/cgroup.controllers (the caller reads the real file; tests pass a fake). */
export function detectCgroups(
  mountinfo: string,
  procSelfCgroup: string,
  v2Controllers: (dir: string) => string | null,
): CgroupLayout {
  const mounts = cgroupMounts(mountinfo);
  const v1Mounts = mounts.filter((m) => m.fstype === 'cgroup');
  const v2Mount = preferred(mounts.filter((m) => m.fstype === 'cgroup2'));
  if (!v2Mount && v1Mounts.length === 0) {
    throw new MinipodError('no cgroup hierarchy is mounted (looked in /proc/self/mountinfo)');
  }
  const paths = cgroupPaths(procSelfCgroup);

  // The v2 line of /proc/self/cgroup is `0::PATH`: its controller list is empty.
  const v2Path = paths.get('');
  const v2 = v2Mount && v2Path !== undefined ? hierarchy(2, v2Mount, v2Path) : null;
  const v2Offers = new Set(v2 ? (v2Controllers(directory(v2)) ?? '').split(/\s+/) : []);

  const v1 = (controller: Controller): Hierarchy | null => {
    const mount = preferred(v1Mounts.filter((m) => m.superopts.includes(controller)));
    const path = paths.get(controller);
    return mount && path !== undefined ? hierarchy(1, mount, path) : null;
  };
  // A controller the v2 hierarchy has (its root lists it) but does not give
  // this cgroup is a delegation problem, not a missing controller: v2 it
  // stays, and making the pod's cgroups names the file to delegate it in.
  const v2Has = new Set(v2Mount ? (v2Controllers(v2Mount.mountpoint) ?? '').split(/\s+/) : []);
  const either = (controller: Controller): Hierarchy | null =>
    v2Offers.has(controller) ? v2 : v1(controller) ?? (v2Has.has(controller) ? v2 : null);

  // As runc does, a mount option is a controller when /proc/self/cgroup names
  // it: that leaves out rw, xattr and the like, and name=systemd, a hierarchy
  // without a controller.
  const v1Controllers = [...paths.keys()].filter((name) => name !== '' && !name.startsWith('name='));
  const v1InUse = v1Mounts.some((m) => m.superopts.some((opt) => v1Controllers.includes(opt)));
  return {
    mode: !v2Mount ? 'v1' : v1InUse ? 'hybrid' : 'v2',
    controllers: { memory: either('memory'), cpu: either('cpu'), cpuacct: v1('cpuacct'), pids: either('pids') },
  };
}

/** The cgroup and cgroup2 mounts, from `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS` lines. */
function cgroupMounts(mountinfo: string): Mount[] {
  // A later mount on the same mount point hides the earlier one (runc skips
  // such mounts too): keep the last per mount point, whatever its type.
  const visible = new Map<string, Mount>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    // The optional fields run up to a lone '-'; a line without one (the empty last line) is no mount.
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    const mountpoint = unescape(fields[4]!);
    visible.set(mountpoint, {
      root: unescape(fields[3]!),
      mountpoint,
      fstype: fields[dash + 1] ?? '',
      superopts: (fields[dash + 3] ?? '').split(','),
    });
  }
  return [...visible.values()].filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
}

/** The kernel writes a space, tab, newline or backslash in a path as an octal escape: `\040` is a space. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Each controller's cgroup, from `ID:CONTROLLERS:PATH` lines; the v2 line's key is ''. A path may hold ':' itself. */
function cgroupPaths(procSelfCgroup: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of procSelfCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of match[1]!.split(',')) paths.set(controller, match[2]!);
  }
  return paths;
}

function preferred(mounts: Mount[]): Mount | undefined {
  return mounts.find((m) => isUnder(m.mountpoint, CGROUP_DIR)) ?? mounts[0];
}

function hierarchy(version: 1 | 2, mount: Mount, procPath: string): Hierarchy {
  return { version, mount: mount.mountpoint, path: inside(mount.root, procPath) };
}

// /proc/self/cgroup gives the path from the hierarchy's root, mountinfo the
// cgroup a mount shows: a container's /sys/fs/cgroup is often a bind of its
// own cgroup, so its path there is what follows that root.
function inside(root: string, procPath: string): string {
  if (root === '/' || !isUnder(procPath, root)) {
    // Outside the bound cgroup (the process was moved out of it) there is
    // nothing to take off: runc's filepath.Rel would climb out of the mount,
    // so the path stays '/'-rooted as the kernel printed it.
    return procPath;
  }
  return procPath.slice(root.length) || '/';
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function directory(h: Hierarchy): string {
  return h.path === '/' ? h.mount : h.mount + h.path;
}
