import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CgroupLayout, detectCgroups, type Hierarchy } from '../../../lib/cgroup/detect.ts';
import { minipodError } from '../../helpers/assert.ts';

const v1 = (mount: string, path = '/'): Hierarchy => ({ version: 1, mount, path });
const v2 = (mount: string, path = '/'): Hierarchy => ({ version: 2, mount, path });
const lines = (...all: string[]): string => `${all.join('\n')}\n`;

interface Case {
  name: string;
  mountinfo: string;
  procSelfCgroup: string;
  /** cgroup.controllers by directory; a directory not here has no such file. */
  v2Controllers?: Record<string, string>;
  expected: CgroupLayout;
}

// The start of a real mountinfo, before any cgroup: none of it may count.
const BASE = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
];

const SESSION = '/user.slice/user-1000.slice/session-3.scope';

const CASES: Case[] = [
  {
    name: 'this machine: v1 controllers, an empty unified hierarchy, memory in a sub-cgroup',
    mountinfo: lines(
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
      '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
      '37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
      '38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
      '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ),
    procSelfCgroup: lines(
      '9:name=systemd:/',
      '8:pids:/',
      '7:blkio:/',
      '6:freezer:/',
      '5:devices:/',
      '4:memory:/process_api/cbac61a000eba84fbe83c69c757802b9',
      '3:cpuset:/',
      '2:cpuacct:/',
      '1:cpu:/',
      '0::/',
    ),
    v2Controllers: { '/sys/fs/cgroup/unified': 'hugetlb\n' },
    expected: {
      mode: 'hybrid',
      controllers: {
        memory: v1('/sys/fs/cgroup/memory', '/process_api/cbac61a000eba84fbe83c69c757802b9'),
        cpu: v1('/sys/fs/cgroup/cpu'),
        cpuacct: v1('/sys/fs/cgroup/cpuacct'),
        pids: v1('/sys/fs/cgroup/pids'),
      },
    },
  },
  {
    name: 'pure v2 (Debian 12, Ubuntu 22.04): everything in the unified hierarchy, no cpuacct',
    mountinfo: lines(
      ...BASE,
      '26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
    ),
    procSelfCgroup: lines(`0::${SESSION}`),
    v2Controllers: { [`/sys/fs/cgroup${SESSION}`]: 'cpuset cpu io memory hugetlb pids rdma misc\n' },
    expected: {
      mode: 'v2',
      controllers: {
        memory: v2('/sys/fs/cgroup', SESSION),
        cpu: v2('/sys/fs/cgroup', SESSION),
        cpuacct: null,
        pids: v2('/sys/fs/cgroup', SESSION),
      },
    },
  },
  {
    name: 'pure v2 where cpu is not delegated to this cgroup: still v2, for the pod cgroups to name what to delegate',
    mountinfo: lines(...BASE, '26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate'),
    procSelfCgroup: lines(`0::${SESSION}`),
    v2Controllers: { '/sys/fs/cgroup': 'cpuset cpu io memory pids\n', [`/sys/fs/cgroup${SESSION}`]: 'memory pids\n' },
    expected: {
      mode: 'v2',
      controllers: {
        memory: v2('/sys/fs/cgroup', SESSION),
        cpu: v2('/sys/fs/cgroup', SESSION),
        cpuacct: null,
        pids: v2('/sys/fs/cgroup', SESSION),
      },
    },
  },
  {
    name: 'pure v2 whose kernel has no cpu controller at all: no cpu, and no v1 to fall back on',
    mountinfo: lines(...BASE, '26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate'),
    procSelfCgroup: lines(`0::${SESSION}`),
    v2Controllers: { '/sys/fs/cgroup': 'memory pids\n', [`/sys/fs/cgroup${SESSION}`]: 'memory pids\n' },
    expected: {
      mode: 'v2',
      controllers: { memory: v2('/sys/fs/cgroup', SESSION), cpu: null, cpuacct: null, pids: v2('/sys/fs/cgroup', SESSION) },
    },
  },
  {
    name: 'v2 with a leftover name=systemd hierarchy (an old systemd in a container) is still v2',
    mountinfo: lines(
      ...BASE,
      '26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw',
      '27 26 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd',
    ),
    procSelfCgroup: lines('1:name=systemd:/', '0::/'),
    v2Controllers: { '/sys/fs/cgroup': 'cpu memory pids\n' },
    expected: {
      mode: 'v2',
      controllers: { memory: v2('/sys/fs/cgroup'), cpu: v2('/sys/fs/cgroup'), cpuacct: null, pids: v2('/sys/fs/cgroup') },
    },
  },
  {
    name: 'hybrid systemd whose unified hierarchy offers memory: v2 wins for memory',
    mountinfo: lines(
      ...BASE,
      '25 23 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
      '26 25 0:26 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
      '27 25 0:27 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
      '30 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct',
      '31 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids',
    ),
    procSelfCgroup: lines(`5:pids:${SESSION}`, '4:cpu,cpuacct:/user.slice', `1:name=systemd:${SESSION}`, `0::${SESSION}`),
    v2Controllers: { [`/sys/fs/cgroup/unified${SESSION}`]: 'memory\n' },
    expected: {
      mode: 'hybrid',
      controllers: {
        memory: v2('/sys/fs/cgroup/unified', SESSION),
        cpu: v1('/sys/fs/cgroup/cpu,cpuacct', '/user.slice'),
        cpuacct: v1('/sys/fs/cgroup/cpu,cpuacct', '/user.slice'),
        pids: v1('/sys/fs/cgroup/pids', SESSION),
      },
    },
  },
  {
    name: 'classic v1 (CentOS 7), cpu and cpuacct co-mounted',
    mountinfo: lines(
      ...BASE,
      '25 23 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
      '26 25 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd',
      '28 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct',
      '29 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory',
      '30 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids',
    ),
    procSelfCgroup: lines(
      '4:pids:/user.slice',
      '3:memory:/user.slice',
      '2:cpu,cpuacct:/user.slice',
      '1:name=systemd:/user.slice/user-1000.slice/session-1.scope',
    ),
    expected: {
      mode: 'v1',
      controllers: {
        memory: v1('/sys/fs/cgroup/memory', '/user.slice'),
        cpu: v1('/sys/fs/cgroup/cpu,cpuacct', '/user.slice'),
        cpuacct: v1('/sys/fs/cgroup/cpu,cpuacct', '/user.slice'),
        pids: v1('/sys/fs/cgroup/pids', '/user.slice'),
      },
    },
  },
  {
    name: "a container's v2: its own cgroup bound at /sys/fs/cgroup is '/'",
    mountinfo: lines(
      '1200 1100 0:61 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
      '1205 1200 0:64 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
      '1206 1205 0:30 /kubepods/pod1/c1 /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate',
    ),
    procSelfCgroup: lines('0::/kubepods/pod1/c1'),
    v2Controllers: { '/sys/fs/cgroup': 'cpuset cpu io memory pids\n' },
    expected: {
      mode: 'v2',
      controllers: { memory: v2('/sys/fs/cgroup'), cpu: v2('/sys/fs/cgroup'), cpuacct: null, pids: v2('/sys/fs/cgroup') },
    },
  },
  {
    name: "a container's v1: below the bound cgroup the rest remains; a sibling sharing its prefix is not below it",
    mountinfo: lines(
      ...BASE,
      '40 23 0:40 / /sys/fs/cgroup rw,nosuid,nodev,noexec - tmpfs tmpfs rw,mode=755',
      '41 40 0:41 /docker/abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
      '42 40 0:42 /docker/abc /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
    ),
    procSelfCgroup: lines('3:pids:/docker/abcd', '2:memory:/docker/abc/init'),
    expected: {
      mode: 'v1',
      controllers: {
        memory: v1('/sys/fs/cgroup/memory', '/init'),
        cpu: null,
        cpuacct: null,
        pids: v1('/sys/fs/cgroup/pids', '/docker/abcd'),
      },
    },
  },
  {
    name: 'octal escapes in mount points and roots are decoded',
    mountinfo: lines(
      ...BASE,
      '50 22 0:50 /a\\040b /mnt/my\\040cgroups/memory rw,relatime - cgroup cgroup rw,memory',
      '51 22 0:51 / /mnt/tab\\011and\\134backslash rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    ),
    procSelfCgroup: lines('2:cpu,cpuacct:/', '1:memory:/a b/c'),
    expected: {
      mode: 'v1',
      controllers: {
        memory: v1('/mnt/my cgroups/memory', '/c'),
        cpu: v1('/mnt/tab\tand\\backslash'),
        cpuacct: v1('/mnt/tab\tand\\backslash'),
        pids: null,
      },
    },
  },
  {
    name: 'a hierarchy mounted twice: the mount under /sys/fs/cgroup, even if second',
    mountinfo: lines(
      ...BASE,
      '60 22 0:60 / /run/runtime/memory rw,relatime - cgroup cgroup rw,memory',
      '61 23 0:60 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '62 22 0:61 / /run/runtime/pids rw,relatime - cgroup cgroup rw,pids',
    ),
    procSelfCgroup: lines('2:pids:/', '1:memory:/'),
    expected: {
      mode: 'v1',
      controllers: { memory: v1('/sys/fs/cgroup/memory'), cpu: null, cpuacct: null, pids: v1('/run/runtime/pids') },
    },
  },
  {
    name: 'a mount hidden by a later one at the same mount point does not count',
    mountinfo: lines(
      ...BASE,
      '70 23 0:70 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '71 23 0:71 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
      '72 70 0:72 / /sys/fs/cgroup/memory rw,relatime - tmpfs tmpfs rw',
    ),
    procSelfCgroup: lines('2:pids:/', '1:memory:/'),
    expected: { mode: 'v1', controllers: { memory: null, cpu: null, cpuacct: null, pids: v1('/sys/fs/cgroup/pids') } },
  },
];

for (const c of CASES) {
  test(c.name, () => {
    const layout = detectCgroups(c.mountinfo, c.procSelfCgroup, (dir) => c.v2Controllers?.[dir] ?? null);
    assert.equal(layout, c.expected);
  });
}

test('no cgroup hierarchy at all is an error', () => {
  const message = minipodError(() => detectCgroups(lines(...BASE), lines('0::/'), () => null));
  assert.is(message, 'no cgroup hierarchy is mounted (looked in /proc/self/mountinfo)');
});

test.run();
