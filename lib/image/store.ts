// The image store, on containerd's model: content (blobs) and snapshots
// (unpacked layers) addressed by digest and shared between images, images
// as names pointing at manifests, and a garbage collector that removes what
// no image, no pod's lease and no pull in progress refers to.
//
//   <images>/blobs/sha256/<hex>      content.ts      verified blobs
//   <images>/ingest/                 content.ts      downloads in progress
//   <images>/snapshots/<hex>/        snapshots.ts    one unpacked layer per diff ID
//   <images>/repositories.json       records.ts      names -> images, and the nameless ones
//   <images>/leases/<id>.json        records.ts      pods using images
//   <images>/leases/.hold-*/         records.ts      pulls and loads in progress
//   <images>/lock                    flock for every change of the above metadata
import { basename, isAbsolute } from 'node:path';
import { MinipodError } from '../errors.ts';
import { withLock } from '../state/lock.ts';
import type { Libc } from '../sys/libc.ts';
import { ContentStore } from './content.ts';
import { digestHex, isDigest, shortDigest } from './digest.ts';
import type { ImageConfig } from './image.ts';
import { normalizeName } from './reference.ts';
import { type ConfigBlob, type Manifest, parseConfigBlob, parseIndex, parseManifest } from './manifest.ts';
import { formatPlatform } from './platform.ts';
import {
  checkLeaseId,
  deleteLease,
  Hold,
  isLive,
  type Lease,
  readHolds,
  readLeases,
  readRepositories,
  type Repositories,
  sweepRecordTemps,
  writeLease,
  writeRepositories,
} from './records.ts';
import { type DetachedSnapshot, type LayerRef, SnapshotStore, type Unpacker } from './snapshots.ts';

export interface ImageRecord {
  /** Canonical names, sorted; empty for a dangling image. */
  names: string[];
  manifestDigest: string;
  indexDigest?: string;
  configDigest: string;
  /** The config digest, as docker and podman show an image's ID. */
  id: string;
  /** The config's `created`, when it says. */
  created?: string;
  /** Bytes unpacked, all layers: what `docker images` shows as SIZE. */
  size: number;
  /** The snapshot fs directories, bottom first: the overlay's lowerdirs, reversed. */
  layers: string[];
  config: ImageConfig;
  platform: string;
}

/** An image's documents, read from the content store and checked against each other. */
export interface ImageParts {
  manifest: Manifest;
  configDigest: string;
  config: ConfigBlob;
  /** Bottom first, each with the diff ID the config gives it. */
  layers: LayerRef[];
}

export interface StoreOptions {
  libc: Libc;
  /** Unpacks a layer blob into a directory (lib/image/unpack.ts). */
  unpack: Unpacker;
}

/** What a garbage collection removed. */
export interface Reclaimed {
  blobs: string[];
  /** Diff IDs. */
  snapshots: string[];
  bytes: number;
}

export interface RemoveResult {
  /** Names removed. */
  untagged: string[];
  /** IDs of the images that went with their last name. */
  deleted: string[];
  reclaimed: Reclaimed;
}

export interface PruneResult {
  /** IDs of the dangling images removed. */
  images: string[];
  /** Ids of the leases whose pod directory was gone. */
  leases: string[];
  /** Leftovers of processes that died: downloads, unpacks, holds. */
  leftovers: number;
  reclaimed: Reclaimed;
}

interface StoredImage {
  names: string[];
  indexDigest?: string;
  platform: string;
}

/** What a reference given to lookup or remove designates: an image, and the names it means. */
interface Target {
  manifestDigest: string;
  /** The names to untag: the one given, or every name of the image given by id or digest. */
  names: string[];
}

export class ImageStore {
  readonly content: ContentStore;
  /**
   * What lookup found, by reference, until this store object changes
   * something: a run looks each image up to decide whether to pull it, then
   * to plan it. Another process's change meanwhile is found as before by
   * what comes next (the pod's lease, refused for an image gone).
   */
  private readonly found = new Map<string, ImageRecord | null>();
  readonly snapshots: SnapshotStore;
  private readonly libc: Libc;

  constructor(readonly dir: string, opts: StoreOptions) {
    this.libc = opts.libc;
    this.content = new ContentStore(dir, opts.libc);
    this.snapshots = new SnapshotStore(dir, this.content, opts.libc, opts.unpack);
  }

  /** The manifest and config of an image whose manifest and config blobs are present. */
  parts(manifestDigest: string): ImageParts {
    const what = `image ${shortDigest(manifestDigest)}`;
    const manifest = parseManifest(this.content.readBlob(manifestDigest), `${what}: manifest`);
    const configDigest = manifest.config.digest;
    const config = parseConfigBlob(this.content.readBlob(configDigest), `${what}: config ${shortDigest(configDigest)}`);
    if (config.diffIDs.length !== manifest.layers.length) {
      throw new MinipodError(`${what}: the config lists ${config.diffIDs.length} diff IDs for the manifest's ${manifest.layers.length} layers`);
    }
    const layers = manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, diffID: config.diffIDs[i]! }));
    return { manifest, configDigest, config, layers };
  }

  /** Unpack every layer of an image whose blobs are present (those not unpacked yet); the fs directories, bottom first. */
  async ensureLayers(manifestDigest: string, opts: { maxUnpackedSize: number }): Promise<string[]> {
    const dirs: string[] = [];
    for (const layer of this.parts(manifestDigest).layers) dirs.push(await this.snapshots.ensure(layer, opts));
    return dirs;
  }

  /**
   * Make an image whose blobs and snapshots are all present visible under
   * `names` (canonical; none: a dangling image). A name that pointed at
   * another image moves, and that image, left without a name, dangles
   * (docker's `<none>`) until pruned.
   */
  async commitImage(req: { names: string[]; manifestDigest: string; indexDigest?: string }): Promise<ImageRecord> {
    for (const name of req.names) {
      const canonical = normalizeName(name);
      if (canonical !== name) throw new MinipodError(`image name "${name}" is not canonical (it would be "${canonical}")`);
    }
    const m = req.manifestDigest;
    digestHex(m, 'manifest');
    return this.locked(() => {
      // Checked under the lock: a collection between a check and the commit could not remove anything then.
      const parts = this.parts(m);
      for (const layer of parts.layers) {
        if (!this.content.hasBlob(layer.digest)) throw new MinipodError(`image ${shortDigest(m)}: layer blob ${shortDigest(layer.digest)} is not in the store`);
        if (!this.snapshots.has(layer.diffID)) throw new MinipodError(`image ${shortDigest(m)}: layer ${shortDigest(layer.diffID)} is not unpacked`);
      }
      if (req.indexDigest !== undefined) this.checkIndex(req.indexDigest, m);
      const platform = formatPlatform(parts.config.platform);
      const repos = readRepositories(this.dir);
      const moved: Repositories['dangling'] = [];
      for (const name of req.names) {
        const previous = repos.names[name];
        // The same config under another manifest (the same image loaded from
        // another format) is the same image: the old manifest is not kept.
        if (previous && previous.manifestDigest !== m && this.configDigestOf(previous.manifestDigest) !== parts.configDigest) {
          moved.push({ manifestDigest: previous.manifestDigest, platform: previous.platform });
        }
        repos.names[name] = { manifestDigest: m, ...(req.indexDigest ? { indexDigest: req.indexDigest } : {}), platform };
      }
      if (req.names.length > 0) repos.dangling = repos.dangling.filter((d) => d.manifestDigest !== m);
      for (const d of [...(req.names.length === 0 ? [{ manifestDigest: m, platform }] : []), ...moved]) {
        const named = Object.values(repos.names).some((r) => r.manifestDigest === d.manifestDigest);
        if (!named && !repos.dangling.some((x) => x.manifestDigest === d.manifestDigest)) repos.dangling.push(d);
      }
      writeRepositories(this.dir, repos);
      return this.record(m, imagesOf(repos).get(m)!);
    });
  }

  /**
   * The image `ref` designates: a name (normalised: `redis:7` is
   * docker.io/library/redis:7), a manifest digest, an image ID, or a unique
   * prefix of an ID (3 hex digits or more, `sha256:` optional); null if none.
   */
  lookup(ref: string): ImageRecord | null {
    if (this.found.has(ref)) return this.found.get(ref)!;
    const repos = readRepositories(this.dir);
    const target = this.find(repos, ref);
    const record = target ? this.record(target.manifestDigest, imagesOf(repos).get(target.manifestDigest)!) : null;
    this.found.set(ref, record);
    return record;
  }

  /** Every image, newest (by its config's `created`) first. */
  list(): ImageRecord[] {
    const images = [...imagesOf(readRepositories(this.dir))].map(([m, stored]) => this.record(m, stored));
    const time = (r: ImageRecord) => {
      const t = r.created ? Date.parse(r.created) : NaN;
      return Number.isNaN(t) ? -Infinity : t;
    };
    const name = (r: ImageRecord) => r.names[0] ?? '\u{10ffff}'; // nameless last among equals
    // Two images without a date: -Infinity - -Infinity is NaN, which falls through to the name.
    return images.sort((a, b) => time(b) - time(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  }

  /**
   * Untag `ref` (a name), or every name of the image it designates (an ID or
   * a digest); an image left without names is deleted and what nothing else
   * uses is collected. An image a live lease uses is not deleted: refused,
   * or with `force` untagged all the same and kept, nameless, until its pods go.
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<RemoveResult> {
    const detached: DetachedSnapshot[] = [];
    const result = await this.locked((): RemoveResult => {
      const repos = readRepositories(this.dir);
      const target = this.find(repos, ref);
      if (!target) throw new MinipodError(`image "${ref}" not found`);
      const m = target.manifestDigest;
      const image = imagesOf(repos).get(m)!;
      const last = image.names.every((n) => target.names.includes(n));
      const users = last ? readLeases(this.dir).filter((l) => isLive(l) && l.images.includes(m)) : [];
      if (users.length > 0 && !opts.force) {
        throw new MinipodError(`image "${ref}" is in use by pod ${users.map((l) => basename(l.podDir)).join(', ')}`);
      }
      for (const name of target.names) delete repos.names[name];
      if (last) {
        repos.dangling = repos.dangling.filter((d) => d.manifestDigest !== m);
        if (users.length > 0) repos.dangling.push({ manifestDigest: m, platform: image.platform });
      }
      writeRepositories(this.dir, repos);
      const deleted = last && users.length === 0 ? [this.configDigestOf(m)] : [];
      return { untagged: target.names, deleted, reclaimed: this.collect(repos, detached) };
    });
    this.destroy(detached);
    return result;
  }

  /**
   * podman's `image prune`: dangling images no pod uses, the leases of pods
   * that are gone, what a dead process left in ingest/, snapshots/.tmp-* and
   * leases/.hold-*, and every blob and snapshot nothing then refers to.
   */
  async prune(): Promise<PruneResult> {
    const detached: DetachedSnapshot[] = [];
    const result = await this.locked((): PruneResult => {
      const leases = readLeases(this.dir);
      const stale = leases.filter((l) => !isLive(l));
      for (const lease of stale) deleteLease(this.dir, lease.id);
      const live = leases.filter(isLive);
      const used = new Set(live.flatMap((l) => l.images));
      const repos = readRepositories(this.dir);
      const unused = repos.dangling.filter((d) => !used.has(d.manifestDigest));
      const images = unused.map((d) => this.configDigestOf(d.manifestDigest));
      if (unused.length > 0) {
        repos.dangling = repos.dangling.filter((d) => used.has(d.manifestDigest));
        writeRepositories(this.dir, repos);
      }
      const leftovers = readHolds(this.libc, this.dir, true).swept.length + sweepRecordTemps(this.dir);
      return { images, leases: stale.map((l) => l.id), leftovers, reclaimed: this.collect(repos, detached, live) };
    });
    this.destroy(detached);
    result.leftovers += this.content.sweepIngest().length + this.snapshots.sweepTemp().length;
    return result;
  }

  /** Remove every blob and snapshot nothing refers to (what a load read from an archive but no image uses). */
  async collectGarbage(): Promise<Reclaimed> {
    const detached: DetachedSnapshot[] = [];
    const reclaimed = await this.locked(() => this.collect(readRepositories(this.dir), detached));
    this.destroy(detached);
    return reclaimed;
  }

  /** Record that the pod whose state directory is `podDir` uses these images (manifest digests). */
  async addLease(id: string, podDir: string, images: string[]): Promise<void> {
    checkLeaseId(id);
    if (!isAbsolute(podDir)) throw new MinipodError(`lease "${id}": pod directory "${podDir}" must be absolute`);
    for (const m of images) digestHex(m, `lease "${id}"`);
    await this.locked(() => {
      const present = imagesOf(readRepositories(this.dir));
      const gone = images.find((m) => !present.has(m));
      if (gone) throw new MinipodError(`lease "${id}": image ${gone} is no longer in the store`);
      writeLease(this.dir, { id, podDir, images });
    });
  }

  async removeLease(id: string): Promise<void> {
    checkLeaseId(id);
    await this.locked(() => deleteLease(this.dir, id));
  }

  /**
   * Run a pull or a load: `protect` keeps the digests it is given (blobs
   * and diff IDs) from the garbage collector until `fn` is done, by which
   * time committed images refer to what they need. Protect a digest before
   * looking whether it is present, so a collection cannot remove it between.
   */
  async withHold<T>(fn: (protect: (digests: string[]) => Promise<void>) => Promise<T>): Promise<T> {
    const hold = Hold.create(this.libc, this.dir);
    try {
      return await fn((digests) => this.locked(() => hold.add(digests)));
    } finally {
      hold.release();
    }
  }

  /** Every change of the store's metadata goes through here: what lookup remembered goes with it. */
  private locked<T>(fn: () => T | Promise<T>): Promise<T> {
    this.found.clear();
    return withLock(this.libc, this.dir, fn).finally(() => this.found.clear());
  }

  private configDigestOf(manifestDigest: string): string {
    return parseManifest(this.content.readBlob(manifestDigest), `image ${shortDigest(manifestDigest)}: manifest`).config.digest;
  }

  private checkIndex(indexDigest: string, manifestDigest: string): void {
    const index = parseIndex(this.content.readBlob(indexDigest), `index ${shortDigest(indexDigest)}`);
    if (!index.manifests.some((d) => d.digest === manifestDigest)) {
      throw new MinipodError(`index ${shortDigest(indexDigest)} does not list manifest ${shortDigest(manifestDigest)}`);
    }
  }

  private find(repos: Repositories, ref: string): Target | null {
    const images = imagesOf(repos);
    const all = (m: string): Target => ({ manifestDigest: m, names: images.get(m)!.names });
    const ids = () => [...images.keys()].map((m) => ({ m, id: this.configDigestOf(m) }));
    const one = (matches: { m: string }[], what: string): Target | null => {
      if (matches.length > 1) throw new MinipodError(`${what} "${ref}" is ambiguous: it matches ${matches.length} images`);
      return matches.length === 1 ? all(matches[0]!.m) : null;
    };
    if (isDigest(ref)) return images.has(ref) ? all(ref) : one(ids().filter((i) => i.id === ref), 'image ID');
    let name: string | undefined;
    try {
      name = normalizeName(ref);
    } catch {
      // Not a name: maybe an ID prefix.
    }
    if (name !== undefined && repos.names[name]) return { manifestDigest: repos.names[name]!.manifestDigest, names: [name] };
    if (name?.includes('@')) {
      // repo@digest names the image of that repository with that manifest (or index) digest, whatever its tags.
      const [repo, digest] = name.split('@') as [string, string];
      const mine = Object.entries(repos.names).filter(([n, r]) => repositoryOf(n) === repo && (r.manifestDigest === digest || r.indexDigest === digest));
      if (mine.length === 0) return null;
      return { manifestDigest: mine[0]![1].manifestDigest, names: mine.filter(([, r]) => r.manifestDigest === mine[0]![1].manifestDigest).map(([n]) => n) };
    }
    const prefix = /^(?:sha256:)?([0-9a-f]{3,64})$/.exec(ref)?.[1];
    return prefix ? one(ids().filter((i) => i.id.startsWith(`sha256:${prefix}`)), 'image ID prefix') : null;
  }

  private record(m: string, stored: StoredImage): ImageRecord {
    const parts = this.parts(m);
    const size = parts.layers.reduce((sum, l) => {
      if (!this.snapshots.has(l.diffID)) throw new MinipodError(`image ${shortDigest(m)}: layer ${shortDigest(l.diffID)} is not unpacked`);
      return sum + this.snapshots.info(l.diffID).size;
    }, 0);
    return {
      names: stored.names,
      manifestDigest: m,
      ...(stored.indexDigest ? { indexDigest: stored.indexDigest } : {}),
      configDigest: parts.configDigest,
      id: parts.configDigest,
      ...(parts.config.created ? { created: parts.config.created } : {}),
      size,
      layers: parts.layers.map((l) => this.snapshots.fsDir(l.diffID)),
      config: parts.config.config,
      platform: stored.platform,
    };
  }

  /**
   * containerd's garbage collection, mark and sweep, under the store lock:
   * the roots are every image (named or dangling), every live lease's
   * images, every live hold's digests; from a manifest, its config, its
   * layer blobs and their snapshots are reachable, and an index a name came
   * through. Snapshots are only detached here (a rename): `destroy`
   * deletes them once the lock is released.
   */
  private collect(repos: Repositories, detached: DetachedSnapshot[], leases: Lease[] = readLeases(this.dir).filter(isLive)): Reclaimed {
    const keep = readHolds(this.libc, this.dir, false).protected;
    const roots = new Set([
      ...Object.values(repos.names).map((r) => r.manifestDigest),
      ...repos.dangling.map((d) => d.manifestDigest),
      ...leases.flatMap((l) => l.images),
    ]);
    for (const r of Object.values(repos.names)) if (r.indexDigest) keep.add(r.indexDigest);
    for (const m of roots) {
      keep.add(m);
      if (!this.content.hasBlob(m)) continue;
      const manifest = parseManifest(this.content.readBlob(m), `image ${shortDigest(m)}: manifest`);
      keep.add(manifest.config.digest);
      for (const layer of manifest.layers) keep.add(layer.digest);
      if (!this.content.hasBlob(manifest.config.digest)) continue;
      for (const diffID of parseConfigBlob(this.content.readBlob(manifest.config.digest), `image ${shortDigest(m)}: config`).diffIDs) keep.add(diffID);
    }
    const reclaimed: Reclaimed = { blobs: [], snapshots: [], bytes: 0 };
    for (const digest of this.content.listBlobs().filter((d) => !keep.has(d))) {
      reclaimed.bytes += this.content.blobSize(digest);
      this.content.removeBlob(digest);
      reclaimed.blobs.push(digest);
    }
    for (const diffID of this.snapshots.list().filter((d) => !keep.has(d))) {
      const size = this.snapshots.has(diffID) ? this.snapshots.info(diffID).size : 0;
      const snapshot = this.snapshots.detach(diffID);
      if (!snapshot) continue;
      detached.push(snapshot);
      reclaimed.bytes += size;
      reclaimed.snapshots.push(diffID);
    }
    return reclaimed;
  }

  private destroy(detached: DetachedSnapshot[]): void {
    for (const snapshot of detached) this.snapshots.destroy(snapshot);
  }
}

/** The images of repositories.json, each with its names. */
function imagesOf(repos: Repositories): Map<string, StoredImage> {
  const images = new Map<string, StoredImage>();
  for (const [name, r] of Object.entries(repos.names).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const image = images.get(r.manifestDigest) ?? { names: [], platform: r.platform };
    image.names.push(name);
    if (r.indexDigest && !image.indexDigest) image.indexDigest = r.indexDigest;
    images.set(r.manifestDigest, image);
  }
  for (const d of repos.dangling) if (!images.has(d.manifestDigest)) images.set(d.manifestDigest, { names: [], platform: d.platform });
  return images;
}

/** `docker.io/library/redis` of `docker.io/library/redis:7` or `...redis@sha256:...`. */
function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
