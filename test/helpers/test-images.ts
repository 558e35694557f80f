// The images the image tests and the pull benchmark use, as specs for
// buildImage/buildIndex (oci-layout.ts), all made from the busybox rootfs
// that `make` builds: no network. Layers are numbered from 1, bottom first.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FIXED_MTIME, hostPlatform, type Compression, type Entry, type ImageConfig, type ImageSpec, type LayerSpec, type Platform } from './oci-layout.ts';
import { BUSYBOX_ROOTFS } from './reliability.ts';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The config of the local `busybox` image (rootfs/images/busybox.sh). */
export const BUSYBOX_CONFIG: ImageConfig = { Cmd: ['sh'], Env: [PATH] };

let busyboxCache: Entry[] | null = null;

/** The busybox rootfs as layer entries, parents before children, names sorted; owners and modes as on disk, mtimes fixed. */
export function busyboxEntries(): Entry[] {
  if (busyboxCache) return busyboxCache;
  const entries: Entry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(BUSYBOX_ROOTFS, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(BUSYBOX_ROOTFS, path);
      const st = lstatSync(full);
      const attrs = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isDirectory()) {
        entries.push({ type: 'dir', ...attrs });
        walk(path);
      } else if (st.isSymbolicLink()) {
        entries.push({ type: 'symlink', ...attrs, target: readlinkSync(full) });
      } else if (st.isFile()) {
        entries.push({ type: 'file', ...attrs, content: readFileSync(full) });
      } else {
        throw new Error(`test images: ${full} is neither a file, a directory nor a symlink`);
      }
    }
  };
  try {
    walk('');
  } catch (err) {
    throw new Error(`test images: reading the busybox rootfs at ${BUSYBOX_ROOTFS} (run make): ${(err as Error).message}`);
  }
  busyboxCache = entries;
  return entries;
}

/**
 * The busybox rootfs in N layers that together run /bin/sh: layer 1 holds
 * bin/ (busybox and its applet links), layer 2 sbin/, usr/ and linuxrc,
 * layer 3 etc/ (passwd, group) and the empty top directories; with fewer
 * layers the later groups fold into the last one, with more each further
 * layer adds one small file, /etc/layer-K.
 */
export function busyboxLayers(n: number, compression: Compression = 'gzip'): LayerSpec[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`test images: busyboxLayers needs at least one layer, not ${n}`);
  const layers: LayerSpec[] = Array.from({ length: n }, () => ({ entries: [], compression }));
  for (const entry of busyboxEntries()) {
    const top = entry.type === 'raw' ? '' : entry.path.split('/')[0];
    const group = top === 'bin' ? 0 : top === 'sbin' || top === 'usr' || top === 'linuxrc' ? 1 : 2;
    layers[Math.min(group, n - 1)]!.entries.push(entry);
  }
  for (let k = 4; k <= n; k++) layers[k - 1]!.entries.push({ type: 'file', path: `etc/layer-${k}`, content: `layer ${k}\n` });
  return layers;
}

/** A runnable busybox image of N layers, configured as the local `busybox` image is. */
export function busyboxImage(n = 3): ImageSpec {
  return { layers: busyboxLayers(n), config: BUSYBOX_CONFIG };
}

// A v2 security.capability value (struct vfs_cap_data): magic_etc =
// VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, then permitted and
// inheritable for caps 0-31 and 32-63, little endian. `getcap` prints it as
// cap_net_bind_service=ep.
export const CAP_NET_BIND_SERVICE = capabilityBlob([10]);

export function capabilityBlob(caps: number[]): Uint8Array {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0);
  for (const cap of caps) {
    const word = cap < 32 ? 4 : 12;
    b.writeUInt32LE((b.readUInt32LE(word) | (1 << (cap % 32))) >>> 0, word);
  }
  return b;
}

const LONG_USTAR = `feature/long/${'d'.repeat(60)}/${'e'.repeat(60)}/file`;
const LONG_PAX = `feature/long/${'p'.repeat(130)}`;
const LONG_GNU = `feature/long/${'g'.repeat(130)}`;

/**
 * Every feature of a layer a real image has, over busybox (layers 1-2) so
 * that a container can look at it with /bin/sh:
 * - layer 3 (gzip): files, a setuid file (04755), owners and modes, an old
 *   mtime, feature/opaque/ with content;
 * - layer 4 (zstd): a symlink chain a -> b -> c (c in layer 3), xattrs
 *   (security.capability, user.test), a hard link, a character device, a
 *   fifo, long names (ustar prefix, PAX path, GNU long name, PAX linkpath);
 * - layer 5 (uncompressed): whiteouts of feature/deleted.txt (layer 3) and
 *   bin/vi (layer 1), and feature/opaque/ made opaque with one new file.
 * FEATURE_TREE is what the merged root must hold.
 */
export function featureImage(): ImageSpec {
  return {
    layers: [
      ...busyboxLayers(2),
      {
        compression: 'gzip',
        entries: [
          { type: 'dir', path: 'feature' },
          { type: 'file', path: 'feature/deleted.txt', content: 'deleted in layer 5\n' },
          { type: 'file', path: 'feature/kept.txt', content: 'kept\n' },
          { type: 'file', path: 'feature/c', content: 'end of the chain\n' },
          { type: 'file', path: 'feature/setuid', mode: 0o4755, content: '#!/bin/sh\necho setuid\n' },
          { type: 'file', path: 'feature/owned', mode: 0o640, uid: 1000, gid: 1000, content: 'owned by 1000\n' },
          { type: 'dir', path: 'feature/private', mode: 0o700, uid: 1000, gid: 1000 },
          { type: 'file', path: 'feature/old', mtime: 1000000000, content: 'from 2001\n' },
          { type: 'dir', path: 'feature/opaque' },
          { type: 'file', path: 'feature/opaque/old-1', content: 'hidden by layer 5\n' },
          { type: 'dir', path: 'feature/opaque/sub' },
          { type: 'file', path: 'feature/opaque/sub/old-2', content: 'hidden by layer 5\n' },
        ],
      },
      {
        compression: 'zstd',
        entries: [
          { type: 'symlink', path: 'feature/b', target: 'c' },
          { type: 'symlink', path: 'feature/a', target: 'b' },
          { type: 'file', path: 'feature/cap', mode: 0o755, content: '#!/bin/sh\n', xattrs: { 'security.capability': CAP_NET_BIND_SERVICE, 'user.test': 'hello xattr' } },
          { type: 'file', path: 'feature/hard-target', content: 'linked\n' },
          { type: 'hardlink', path: 'feature/hard-link', target: 'feature/hard-target' },
          { type: 'char', path: 'feature/null', major: 1, minor: 3 },
          { type: 'fifo', path: 'feature/fifo' },
          { type: 'dir', path: 'feature/long' },
          { type: 'dir', path: `feature/long/${'d'.repeat(60)}` },
          { type: 'dir', path: `feature/long/${'d'.repeat(60)}/${'e'.repeat(60)}` },
          { type: 'file', path: LONG_USTAR, content: 'ustar prefix\n' },
          { type: 'file', path: LONG_PAX, content: 'pax path\n' },
          { type: 'file', path: LONG_GNU, content: 'gnu long name\n', longNames: 'gnu' },
          { type: 'symlink', path: 'feature/long-link', target: `/${LONG_PAX}` },
        ],
      },
      {
        compression: 'none',
        entries: [
          { type: 'whiteout', path: 'feature/deleted.txt' },
          { type: 'whiteout', path: 'bin/vi' },
          { type: 'dir', path: 'feature/opaque' },
          { type: 'opaque', path: 'feature/opaque' },
          { type: 'file', path: 'feature/opaque/new', content: 'from layer 5\n' },
        ],
      },
    ],
    config: {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat /feature/kept.txt'],
      Env: [PATH, 'FEATURE=on'],
      WorkingDir: '/feature',
      User: '0:0',
      ExposedPorts: { '8080/tcp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGUSR1',
      Labels: { 'org.minipod.test': 'feature' },
    },
  };
}

export interface ExpectedEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'fifo';
  /** Permission bits with setuid/setgid/sticky. */
  mode?: number;
  uid?: number;
  gid?: number;
  content?: string;
  target?: string;
  rdev?: [number, number];
  mtime?: number;
  /** Another path of the same inode. */
  sameInodeAs?: string;
}

/** What the feature image's merged root holds (null: must not exist); xattrs are checked with getcap and the like, not here. */
export const FEATURE_TREE: Record<string, ExpectedEntry | null> = {
  'feature/kept.txt': { type: 'file', mode: 0o644, uid: 0, gid: 0, content: 'kept\n', mtime: FIXED_MTIME },
  'feature/deleted.txt': null,
  'bin/vi': null,
  'bin/sh': { type: 'symlink', target: '/bin/busybox' },
  'feature/setuid': { type: 'file', mode: 0o4755, content: '#!/bin/sh\necho setuid\n' },
  'feature/owned': { type: 'file', mode: 0o640, uid: 1000, gid: 1000 },
  'feature/private': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
  'feature/old': { type: 'file', mtime: 1000000000 },
  'feature/a': { type: 'symlink', target: 'b' },
  'feature/b': { type: 'symlink', target: 'c' },
  'feature/c': { type: 'file', content: 'end of the chain\n' },
  'feature/cap': { type: 'file', mode: 0o755 },
  'feature/hard-link': { type: 'file', content: 'linked\n', sameInodeAs: 'feature/hard-target' },
  'feature/null': { type: 'char', mode: 0o666, rdev: [1, 3] },
  'feature/fifo': { type: 'fifo', mode: 0o644 },
  [LONG_USTAR]: { type: 'file', content: 'ustar prefix\n' },
  [LONG_PAX]: { type: 'file', content: 'pax path\n' },
  [LONG_GNU]: { type: 'file', content: 'gnu long name\n' },
  'feature/long-link': { type: 'symlink', target: `/${LONG_PAX}` },
  'feature/opaque/new': { type: 'file', content: 'from layer 5\n' },
  'feature/opaque/old-1': null,
  'feature/opaque/sub': null,
};

/** How ROOT differs from TREE, one line a difference (none: it matches). */
export function treeDifferences(root: string, tree: Record<string, ExpectedEntry | null>): string[] {
  const out: string[] = [];
  for (const [path, want] of Object.entries(tree)) {
    const full = join(root, path);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      if (want) out.push(`${path}: missing`);
      continue;
    }
    if (!want) {
      out.push(`${path}: present, should be gone`);
      continue;
    }
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isFIFO() ? 'fifo' : 'other';
    const check = (what: string, got: unknown, expected: unknown) => {
      if (expected !== undefined && got !== expected) out.push(`${path}: ${what} ${fmt(got)}, expected ${fmt(expected)}`);
    };
    check('type', type, want.type);
    if (type !== want.type) continue;
    if (want.type !== 'symlink') check('mode', st.mode & 0o7777, want.mode);
    check('uid', st.uid, want.uid);
    check('gid', st.gid, want.gid);
    check('mtime', Math.floor(st.mtimeMs / 1000), want.mtime);
    if (want.content !== undefined) check('content', readFileSync(full, 'utf8'), want.content);
    if (want.target !== undefined) check('target', readlinkSync(full), want.target);
    if (want.rdev) check('rdev', `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`, want.rdev.join(':'));
    if (want.sameInodeAs) check('inode', st.ino, lstatSync(join(root, want.sameInodeAs)).ino);
  }
  return out;
}

const fmt = (v: unknown) => (typeof v === 'number' && v > 7 ? `${v} (0${v.toString(8)})` : JSON.stringify(v));

/** A second image on the same two busybox layers as featureImage and busyboxImage(2), with one layer of its own. */
export function sharedBaseImage(): ImageSpec {
  return {
    layers: [...busyboxLayers(2), { entries: [{ type: 'file', path: 'shared.txt', content: 'the shared-base image\n' }] }],
    config: { ...BUSYBOX_CONFIG, Cmd: ['cat', '/shared.txt'] },
  };
}

/** The machine's platform's other half: linux/arm64/v8 here when this is amd64, and the reverse. */
export function foreignPlatform(): Platform {
  return hostPlatform().architecture === 'amd64' ? { os: 'linux', architecture: 'arm64', variant: 'v8' } : { os: 'linux', architecture: 'amd64' };
}

const platformName = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * For buildIndex: linux/amd64 and linux/arm64/v8. This machine's is busybox
 * and runs; the other has one tiny layer. Each has /platform naming it, so a
 * test sees which one was chosen.
 */
export function multiPlatformImages(): ImageSpec[] {
  const platformLayer = (p: Platform): LayerSpec => ({ entries: [{ type: 'file', path: 'platform', content: `${platformName(p)}\n` }] });
  const host = hostPlatform();
  const foreign = foreignPlatform();
  const native: ImageSpec = { layers: [...busyboxLayers(2), platformLayer(host)], config: { ...BUSYBOX_CONFIG, Cmd: ['cat', '/platform'] }, platform: host };
  const other: ImageSpec = { layers: [platformLayer(foreign)], config: { Cmd: ['cat', '/platform'] }, platform: foreign };
  return host.architecture === 'amd64' ? [native, other] : [other, native];
}
