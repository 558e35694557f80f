// One image layer unpacked into an empty snapshot directory, as root, so
// that overlayfs can use it as a lowerdir: whiteouts become 0:0 character
// devices, opaque markers the trusted.overlay.opaque xattr.
//
// A layer is hostile until proven otherwise: it must never write outside
// the snapshot (the runc/containerd CVE history is the checklist). Names
// are checked as text first (layer-path.ts), then every entry is created
// relative to a descriptor of its parent directory, opened by the kernel
// with openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: no symlink, whoever
// planted it, is ever followed while writing, and nothing can resolve
// above the snapshot. A record of what this layer created (`Node` below)
// gives the rules that need memory (hard links name earlier entries,
// nothing under a whiteout) and the clear message; the kernel's flags are
// what holds even if that record were wrong.
import { lstatSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY,
  RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, S_IFBLK, S_IFCHR, S_IFIFO,
} from '../sys/constants.ts';
import { EEXIST } from '../sys/errno.ts';
import { type Libc, SyscallError, type Timespec } from '../sys/libc.ts';
import { type Compression, decompressed } from './decompress.ts';
import { entryError, LayerError } from './layer-error.ts';
import { entryRole, imagePath, layerPath } from './layer-path.ts';
import { type TarEntry, tarEntries } from './tar-entries.ts';

export interface UnpackOptions {
  libc: Libc;
  /** Bytes of file content the whole layer may unpack to (--max-unpacked-size). */
  maxUnpackedSize: number;
  /** Entries the layer may have; MAX_ENTRIES unless said. */
  maxEntries?: number;
}

export interface UnpackResult {
  /** `sha256:` and the hex digest of the uncompressed tar stream. */
  diffID: string;
  /** Bytes of file content unpacked. */
  size: number;
  /** Directories made opaque, and whiteouts, as absolute paths in the image. */
  opaque: string[];
  whiteouts: string[];
}

/**
 * Entries of one layer, at most. Each costs a few hundred bytes of
 * bookkeeping here and an inode there, and a tar of empty files is not
 * bounded by --max-unpacked-size; the largest real layers have a few
 * hundred thousand (a full TeX Live, a node_modules-heavy app).
 */
export const MAX_ENTRIES = 1_000_000;

const DIR_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
const RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
const DEVICE_TYPES = { 'character-device': S_IFCHR, 'block-device': S_IFBLK, fifo: S_IFIFO } as const;
/**
 * overlayfs reads its own metadata from these (redirect, metacopy, origin,
 * opaque; user.overlay.* when mounted with userxattr): a layer that set
 * them could point a lower file at another one. No tool that writes
 * layers records them (docker, containerd and buildkit record only
 * security.capability), so such a layer is refused, not quietly trimmed:
 * it was made to attack, or made wrong (a raw tar of an upperdir, whose
 * opaque directories would silently not be).
 */
const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

export async function unpackLayer(
  blob: AsyncIterable<Uint8Array>,
  mediaType: string,
  dest: string,
  opts: UnpackOptions,
): Promise<UnpackResult> {
  let writer: LayerWriter | null = null;
  try {
    writer = new LayerWriter(opts.libc, dest, opts.maxUnpackedSize, opts.maxEntries ?? MAX_ENTRIES);
    const { compression, chunks } = await decompressed(blob);
    const hash = createHash('sha256');
    const hashed = (async function* () {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    })();
    for await (const entry of tarEntries(hashed, () => notATar(mediaType, compression))) await writer.add(entry);
    writer.finish();
    return { diffID: `sha256:${hash.digest('hex')}`, size: writer.size, opaque: writer.opaque, whiteouts: writer.whiteouts };
  } catch (err) {
    if (err instanceof LayerError) throw err;
    throw new LayerError(`layer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    writer?.close();
  }
}

function notATar(mediaType: string, compression: Compression): string {
  const content = compression === 'none' ? 'uncompressed' : `${compression}-compressed`;
  return `layer is not a tar archive (media type ${mediaType}; its content, ${content}, has no tar header)`;
}

/** What this layer has put at a path: the memory behind the rules. */
interface Node {
  kind: 'directory' | 'file' | 'symlink' | 'device' | 'whiteout';
  children: Map<string, Node> | null;
  /** A directory's times, set once everything in it is written. */
  times?: [atime: Timespec, mtime: Timespec];
  opaque?: boolean;
}

const directory = (): Node => ({ kind: 'directory', children: new Map() });

class LayerWriter {
  size = 0;
  opaque: string[] = [];
  whiteouts: string[] = [];
  private readonly root: number;
  private readonly tree = directory();
  private declared = 0;
  private entries = 0;
  private cached: { key: string; fd: number } | null = null;

  constructor(
    private readonly libc: Libc,
    dest: string,
    private readonly max: number,
    private readonly maxEntries: number,
  ) {
    this.root = libc.open(dest, DIR_FLAGS);
  }

  close(): void {
    this.uncache();
    this.libc.close(this.root);
  }

  async add(entry: TarEntry): Promise<void> {
    const name = entry.name;
    if (++this.entries > this.maxEntries) throw new LayerError(`layer has more than ${this.maxEntries} entries`);
    const path = layerPath(name);
    if ('refused' in path) throw entryError(name, path.refused);
    const role = entryRole(path.parts);
    if ('refused' in role) throw entryError(name, role.refused);
    try {
      switch (role.role) {
        case 'root':
          // The snapshot's own directory: overlayfs takes the root's attributes from the upper layer.
          if (entry.type !== 'directory') throw entryError(name, `${entry.typeName} in place of the layer's root directory`);
          return;
        case 'aufs':
          return;
        case 'opaque':
          return this.markOpaque(name, role.parts);
        case 'whiteout':
          return this.whiteout(name, role.parts);
        case 'file':
          return await this.write(entry, path.parts);
      }
    } catch (err) {
      if (err instanceof LayerError) throw err;
      throw entryError(name, err instanceof Error ? err.message : String(err), err);
    }
  }

  /** Directories' times last: creating anything in a directory changes its mtime. Then the result's lists. */
  finish(): void {
    const walk = (node: Node, parts: string[]) => {
      if (node.opaque) this.opaque.push(imagePath(parts));
      for (const [name, child] of node.children ?? []) {
        const path = [...parts, name];
        if (child.kind === 'whiteout') this.whiteouts.push(imagePath(path));
        walk(child, path);
        if (child.times) {
          const fd = this.openDir(path);
          try {
            this.libc.utimensat(fd, '.', ...child.times, 0, imagePath(path));
          } finally {
            this.libc.close(fd);
          }
        }
      }
    };
    walk(this.tree, []);
  }

  private async write(entry: TarEntry, parts: string[]): Promise<void> {
    const { name, type } = entry;
    if (type === null) throw entryError(name, `${entry.typeName} is not supported`);
    this.refuseUnderWhiteout(name, parts);
    for (const [xattr] of entry.xattrs) {
      if (OVERLAY_XATTR.test(xattr)) throw entryError(name, `xattr ${xattr} is overlayfs metadata, which a layer must not set`);
      if (xattr.includes('\0')) throw entryError(name, 'xattr name contains a NUL byte');
    }
    if (type === 'file') {
      this.declared += entry.size;
      if (this.declared > this.max) throw this.tooBig();
    }
    if (type === 'link') return this.hardLink(entry, parts);
    const base = parts.at(-1)!;
    const parentParts = parts.slice(0, -1);
    const parent = this.parentDir(name, parentParts);
    const where = imagePath(parentParts);
    let kind: Node['kind'];
    if (type === 'directory') {
      kind = 'directory';
      this.create(parent, parentParts, base, true, () => this.libc.mkdirat(parent, base, 0o700, where));
    } else if (type === 'file') {
      kind = 'file';
      const fd = this.create(parent, parentParts, base, false, () =>
        this.libc.openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600, where),
      );
      try {
        await this.copy(entry.body, fd!);
      } finally {
        this.libc.close(fd!);
      }
    } else if (type === 'symlink') {
      kind = 'symlink';
      if (entry.linkname === '') throw entryError(name, 'symlink with an empty target');
      if (entry.linkname.includes('\0')) throw entryError(name, 'symlink target contains a NUL byte');
      this.create(parent, parentParts, base, false, () => this.libc.symlinkat(entry.linkname, parent, base, where));
    } else {
      kind = 'device';
      const mode = DEVICE_TYPES[type] | 0o600;
      this.create(parent, parentParts, base, false, () =>
        this.libc.mknodat(parent, base, mode, entry.devmajor, entry.devminor, where),
      );
    }
    this.setMetadata(entry, parent, parts);
    const node = this.nodeAt(parentParts)!;
    const old = node.children!.get(base);
    // A directory over a directory keeps what is in it (and its opaque mark): only the metadata is the new entry's.
    const next: Node = kind === 'directory' && old?.kind === 'directory' ? old : { kind, children: kind === 'directory' ? new Map() : null };
    if (kind === 'directory') next.times = [later(entry.atime, entry.mtime), entry.mtime];
    node.children!.set(base, next);
  }

  /**
   * `create()` the new entry; if the name exists, the later entry wins, as
   * in tar and containerd: a directory over a directory is merged (the
   * caller sets its metadata), anything else is removed and created again.
   */
  private create<T>(parent: number, parentParts: string[], base: string, isDir: boolean, create: () => T): T | undefined {
    try {
      return create();
    } catch (err) {
      if (!(err instanceof SyscallError && err.errno === EEXIST)) throw err;
    }
    const existing = lstatSync(`/proc/self/fd/${parent}/${base}`);
    if (isDir && existing.isDirectory()) return undefined;
    rmSync(`/proc/self/fd/${parent}/${base}`, { recursive: true });
    this.nodeAt(parentParts)?.children?.delete(base);
    return create();
  }

  private async copy(body: AsyncIterable<Uint8Array>, fd: number): Promise<void> {
    for await (const chunk of body) {
      this.size += chunk.length;
      // Headers were checked already: this holds even if a parser delivered more than they said.
      if (this.size > this.max) throw this.tooBig();
      for (let done = 0; done < chunk.length; ) done += this.libc.write(fd, done === 0 ? chunk : chunk.subarray(done));
    }
  }

  private tooBig(): LayerError {
    return new LayerError(`layer unpacks to more than ${this.max} bytes (--max-unpacked-size)`);
  }

  /**
   * Owner, then mode (chown clears setuid and setgid), then xattrs (chown
   * also clears security.capability), then times. Numeric ids, as
   * containerd uses: the names in the header mean nothing on this host.
   */
  private setMetadata(entry: TarEntry, parent: number, parts: string[]): void {
    const { libc } = this;
    const base = parts.at(-1)!;
    const where = imagePath(parts.slice(0, -1));
    libc.fchownat(parent, base, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW, where);
    if (entry.type !== 'symlink') libc.fchmodat(parent, base, entry.mode, where);
    for (const [xattr, value] of entry.xattrs) {
      libc.lsetxattr(`/proc/self/fd/${parent}/${base}`, xattr, value, imagePath(parts));
    }
    if (entry.type !== 'directory') libc.utimensat(parent, base, later(entry.atime, entry.mtime), entry.mtime, AT_SYMLINK_NOFOLLOW, where);
  }

  /**
   * A hard link may only name an earlier entry of this layer that is not
   * a directory: a link to a host file, to something a lower layer has
   * (its snapshot is not this one), or one through a symlink is refused.
   * It shares its target's inode, so it has no metadata of its own to set.
   */
  private hardLink(entry: TarEntry, parts: string[]): void {
    const { name } = entry;
    const target = layerPath(entry.linkname);
    if ('refused' in target) throw entryError(name, `hard link to ${JSON.stringify(entry.linkname)}: ${target.refused}`);
    const targetNode = this.nodeAt(target.parts);
    const to = `hard link to ${JSON.stringify(entry.linkname)}`;
    if (target.parts.join('/') === parts.join('/')) throw entryError(name, `${to}, itself`);
    if (!targetNode || targetNode.kind === 'whiteout' || target.parts.length === 0) {
      throw entryError(name, `${to}, which no earlier entry of this layer created`);
    }
    if (targetNode.kind === 'directory') throw entryError(name, `${to}, a directory`);
    const base = parts.at(-1)!;
    const parentParts = parts.slice(0, -1);
    const parent = this.parentDir(name, parentParts);
    const targetParent = this.openDir(target.parts.slice(0, -1));
    try {
      const targetBase = target.parts.at(-1)!;
      const targetDir = imagePath(target.parts.slice(0, -1));
      this.create(parent, parentParts, base, false, () =>
        this.libc.linkat(targetParent, targetBase, parent, base, 0, targetDir, imagePath(parentParts)),
      );
      this.nodeAt(parentParts)!.children!.set(base, { kind: targetNode.kind, children: null });
    } finally {
      this.libc.close(targetParent);
    }
  }

  private whiteout(name: string, parts: string[]): void {
    const existing = this.nodeAt(parts);
    if (existing?.kind === 'whiteout') return;
    this.refuseUnderWhiteout(name, parts);
    if (existing) throw entryError(name, `whites out ${JSON.stringify(parts.join('/'))}, which this layer itself created`);
    const parentParts = parts.slice(0, -1);
    const parent = this.parentDir(name, parentParts);
    this.libc.mknodat(parent, parts.at(-1)!, S_IFCHR, 0, 0, imagePath(parentParts));
    this.nodeAt(parentParts)!.children!.set(parts.at(-1)!, { kind: 'whiteout', children: null });
  }

  private markOpaque(name: string, parts: string[]): void {
    this.refuseUnderWhiteout(name, parts);
    const fd = this.parentDir(name, parts);
    this.libc.lsetxattr(`/proc/self/fd/${fd}/.`, 'trusted.overlay.opaque', new TextEncoder().encode('y'), imagePath(parts));
    this.nodeAt(parts)!.opaque = true;
  }

  /** The OCI rule: a whiteout hides lower layers only; this layer's own entries may not sit under one. */
  private refuseUnderWhiteout(name: string, parts: string[]): void {
    let node: Node | undefined = this.tree;
    for (const [i, part] of parts.entries()) {
      node = node?.children?.get(part);
      if (node?.kind === 'whiteout') {
        const path = JSON.stringify(parts.slice(0, i + 1).join('/'));
        throw entryError(name, i === parts.length - 1 ? `${path} is whited out earlier in this layer` : `under ${path}, which this layer whites out`);
      }
    }
  }

  private nodeAt(parts: string[]): Node | undefined {
    let node: Node | undefined = this.tree;
    for (const part of parts) node = node?.children?.get(part);
    return node;
  }

  /**
   * An O_PATH descriptor of the directory `parts`, creating what is
   * missing as root-owned 0755 directories (as containerd does). Every
   * component must be a directory this layer made: a symlink or a file on
   * the way is refused by name here, and by the kernel (ELOOP, ENOTDIR)
   * if it got so far. The descriptor is kept for the next entry (tars list
   * a directory's entries together) and closed when another is needed:
   * it stays the directory at that path, since only an entry in its
   * parent, which takes its place as the cached one first, can remove it.
   */
  private parentDir(name: string, parts: string[]): number {
    let node = this.tree;
    let missing = parts.length;
    for (const [i, part] of parts.entries()) {
      const child = node.children!.get(part);
      if (!child) {
        missing = i;
        break;
      }
      if (child.kind !== 'directory') {
        const path = JSON.stringify(parts.slice(0, i + 1).join('/'));
        if (child.kind === 'symlink') throw entryError(name, `${path} is a symlink: writing through it is refused`);
        throw entryError(name, `${path} is not a directory`);
      }
      node = child;
    }
    const key = parts.join('/');
    if (missing === parts.length && this.cached?.key === key) return this.cached.fd;
    let fd = this.openDir(parts.slice(0, missing));
    try {
      for (const [i, part] of parts.slice(missing).entries()) {
        const where = imagePath(parts.slice(0, missing + i));
        this.libc.mkdirat(fd, part, 0o755, where);
        // Explicitly: a setgid parent would hand down its group, and the umask could take bits off.
        this.libc.fchownat(fd, part, 0, 0, AT_SYMLINK_NOFOLLOW, where);
        this.libc.fchmodat(fd, part, 0o755, where);
        const next = this.libc.openat2(fd, part, { flags: DIR_FLAGS, resolve: RESOLVE }, where);
        this.libc.close(fd);
        fd = next;
        node.children!.set(part, (node = directory()));
      }
    } catch (err) {
      this.libc.close(fd);
      throw err;
    }
    this.uncache();
    this.cached = { key, fd };
    return fd;
  }

  private uncache(): void {
    if (this.cached) this.libc.close(this.cached.fd);
    this.cached = null;
  }

  private openDir(parts: string[]): number {
    return this.libc.openat2(this.root, parts.join('/') || '.', { flags: DIR_FLAGS, resolve: RESOLVE }, 'layer root');
  }
}

/** containerd's atime: the archive's, unless the mtime is later (Go's latestTime). */
function later(atime: Timespec | null, mtime: Timespec): Timespec {
  if (!atime || atime[0] < mtime[0] || (atime[0] === mtime[0] && atime[1] < mtime[1])) return mtime;
  return atime;
}
