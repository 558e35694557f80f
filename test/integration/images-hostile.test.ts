// Hostile layers pushed to a real registry and pulled through the CLI, as
// root: the runc/containerd CVE history as a checklist. Each is refused with
// exit 125 and one line naming the entry and the rule; nothing is written
// beside the image store (canary files there and in a directory outside),
// no image is committed, and a prune leaves nothing of it.
import { Buffer } from 'node:buffer';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { blobsIn, imageCli, imageNames, imageSuite, pullOutput, snapshotsIn, storeProblems, type ImageContext } from '../helpers/image-cli.ts';
import { buildImage, type BuiltImage, type Entry, type LayerSpec } from '../helpers/oci-layout.ts';
import { startRegistry, type Registry } from '../helpers/registry.ts';
import { pushImage } from '../helpers/skopeo.ts';
import { busyboxLayers } from '../helpers/test-images.ts';
import type { TarHeader } from '../helpers/tar-writer.ts';

/** A directory outside every store, for absolute names and symlinks to aim at; it must stay empty. */
const outside = mkdtempSync(join(tmpdir(), 'minipod-hostile-outside-'));

const raw = (header: Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, body?: string | Uint8Array): Entry => ({
  type: 'raw',
  header: { mode: header.type === 'symlink' ? 0o777 : header.type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1704067200, ...header },
  ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body) : body }),
});
const file = (name: string, body: string | Uint8Array = 'written by a hostile layer\n') => raw({ name, type: 'file' }, body);

interface HostileCase {
  name: string;
  title: string;
  layers: LayerSpec[];
  /** The rule, as the line ends. */
  message: string;
  args?: string[];
}

// From a snapshot's fs/ (<store>/images/snapshots/.tmp-*/fs), four levels up is the store's own directory, where the canaries are.
const UP = '../../../..';

const CASES: HostileCase[] = [
  { name: 'dotdot', title: 'a `..` name that climbs out of the snapshot', layers: [{ entries: [file(`${UP}/escaped`)] }], message: `layer entry "${UP}/escaped": path leaves the layer` },
  {
    name: 'dotdot-root',
    title: 'a `..` name that climbs to / and down into another directory',
    layers: [{ entries: [file(`${UP}/../../../../../..${outside}/dotdot`)] }],
    message: `layer entry "${UP}/../../../../../..${outside}/dotdot": path leaves the layer`,
  },
  { name: 'dotdot-inner', title: 'a `..` name that climbs out from inside a directory', layers: [{ entries: [file('etc/../../escaped')] }], message: 'layer entry "etc/../../escaped": path leaves the layer' },
  {
    name: 'dotdot-on-base',
    title: 'a `..` name in a layer over a good one (the good one may stay unpacked, unnamed)',
    layers: [busyboxLayers(1)[0]!, { entries: [file(`${UP}/escaped`)] }],
    message: `layer entry "${UP}/escaped": path leaves the layer`,
  },
  { name: 'absolute', title: 'an absolute name', layers: [{ entries: [file(`${outside}/absolute`)] }], message: `layer entry "${outside}/absolute": absolute name (names in a layer are relative to its root)` },
  {
    name: 'symlink-absolute',
    title: 'a symlink to a directory outside, then an entry written through it',
    layers: [{ entries: [raw({ name: 'link', type: 'symlink', linkname: outside }), file('link/through')] }],
    message: 'layer entry "link/through": "link" is a symlink: writing through it is refused',
  },
  {
    name: 'symlink-relative',
    title: 'a symlink climbing out with `..`, then an entry written through it',
    layers: [{ entries: [raw({ name: 'up', type: 'symlink', linkname: UP }), file('up/through')] }],
    message: 'layer entry "up/through": "up" is a symlink: writing through it is refused',
  },
  {
    name: 'symlink-deep',
    title: 'a directory, a symlink inside it to /, then an entry through it',
    layers: [{ entries: [raw({ name: 'etc/', type: 'directory' }), raw({ name: 'etc/root', type: 'symlink', linkname: '/' }), file('etc/root/tmp/through')] }],
    message: 'layer entry "etc/root/tmp/through": "etc/root" is a symlink: writing through it is refused',
  },
  {
    name: 'hardlink-outside',
    title: 'a hard link to a file beside the store',
    layers: [{ entries: [raw({ name: 'hl', type: 'link', linkname: `${UP}/canary.txt` })] }],
    message: `layer entry "hl": hard link to "${UP}/canary.txt": path leaves the layer`,
  },
  {
    name: 'hardlink-absolute',
    title: 'a hard link to an absolute name of the host',
    layers: [{ entries: [raw({ name: 'hl', type: 'link', linkname: '/etc/passwd' })] }],
    message: 'layer entry "hl": hard link to "/etc/passwd": absolute name (names in a layer are relative to its root)',
  },
  {
    name: 'hardlink-absent',
    title: 'a hard link to a name the layer does not have',
    layers: [{ entries: [raw({ name: 'hl', type: 'link', linkname: 'nothere' })] }],
    message: 'layer entry "hl": hard link to "nothere", which no earlier entry of this layer created',
  },
  {
    name: 'hardlink-through-symlink',
    title: 'a hard link whose target goes through a symlink to the host\'s /etc',
    layers: [{ entries: [raw({ name: 's', type: 'symlink', linkname: '/etc' }), raw({ name: 'h', type: 'link', linkname: 's/passwd' })] }],
    message: 'layer entry "h": hard link to "s/passwd", which no earlier entry of this layer created',
  },
  {
    name: 'under-whiteout',
    title: 'an entry under a directory the same layer whites out',
    layers: [{ entries: [file('.wh.dir', ''), file('dir/x')] }],
    message: 'layer entry "dir/x": under "dir", which this layer whites out',
  },
  {
    name: 'whiteout-own',
    title: 'a whiteout of a file the same layer created',
    layers: [{ entries: [file('f'), file('.wh.f', '')] }],
    message: 'layer entry ".wh.f": whites out "f", which this layer itself created',
  },
  {
    name: 'overlay-xattr',
    title: 'an overlayfs xattr (trusted.overlay.redirect) set by the layer',
    layers: [{ entries: [raw({ name: 'o', type: 'file', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }, 'x')] }],
    message: 'layer entry "o": xattr trusted.overlay.redirect is overlayfs metadata, which a layer must not set',
  },
  {
    name: 'bomb',
    title: 'a layer bigger unpacked than --max-unpacked-size (2 MiB of zeros, a few kB gzipped)',
    layers: [{ entries: [file('zeros', new Uint8Array(2 << 20))] }],
    message: 'layer unpacks to more than 1048576 bytes (--max-unpacked-size)',
    args: ['--max-unpacked-size', '1Mi'],
  },
];

/** Confined, not refused: each layer is unpacked on its own, so a lower layer's symlink cannot lead an upper layer's entry out. */
const CONFINED = [
  {
    name: 'symlink-lower-layer',
    layers: [{ entries: [raw({ name: 'escape', type: 'symlink', linkname: outside })] }, { entries: [raw({ name: 'escape/', type: 'directory' }), file('escape/owned')] }],
  },
];

interface Env {
  tmp: string;
  registry: Registry;
  images: Map<string, BuiltImage>;
}

const { test, run } = imageSuite<Env>('hostile layers pulled from a registry', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minipod-images-hostile-'));
  const registry = await startRegistry();
  const images = new Map<string, BuiltImage>();
  const all = [...CASES.map((c) => ({ name: c.name, layers: c.layers })), ...CONFINED];
  await Promise.all(all.map(async ({ name, layers }) => {
    const image = await buildImage({ layers, config: { Cmd: ['sh'] } }, { dir: join(tmp, name) });
    await pushImage(image.layoutDir, registry.host, `hostile/${name}:1`);
    images.set(name, image);
  }));
  return { tmp, registry, images };
}, async (env) => {
  await env?.registry.stop();
  if (env) rmSync(env.tmp, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const CANARY = 'the canary\n';

function plantCanaries({ store }: ImageContext): void {
  writeFileSync(join(store.dir, 'canary.txt'), CANARY);
  mkdirSync(join(store.dir, 'canary-dir'));
}

/** Nothing beside the store changed, nothing in the outside directory, the canary as it was. */
function assertNothingOutside({ store }: ImageContext): void {
  assert.equal(readdirSync(store.dir).sort(), ['canary-dir', 'canary.txt', 'images'], 'nothing written beside the store');
  assert.equal(readdirSync(join(store.dir, 'canary-dir')), []);
  assert.is(readFileSync(join(store.dir, 'canary.txt'), 'utf8'), CANARY);
  const st = lstatSync(join(store.dir, 'canary.txt'));
  assert.equal([st.nlink, st.uid, st.mode & 0o7777], [1, 0, 0o644], 'the canary is not linked to nor changed');
  assert.equal(readdirSync(outside), [], `nothing written in ${outside}`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const c of CASES) {
  test(`${c.title}: refused in one line, exit 125, nothing written outside, no image`, async (ctx) => {
    const { scratch, store, env } = ctx;
    plantCanaries(ctx);
    const ref = `${env.registry.host}/hostile/${c.name}:1`;
    const r = await imageCli(scratch, store.images, ['pull', ...(c.args ?? []), ref]);
    assert.is(r.exitCode, 125, r.all);
    assert.is(r.stdout, '');
    const { other } = pullOutput(r.stderr);
    assert.is(other.length, 1, `one line besides finished layers:\n${r.stderr}`);
    // Which layer may be said between the two; the reference first and the rule last must be.
    assert.match(other[0]!, new RegExp(`^${escape(`minipod: pull ${ref}: `)}(.+: )?${escape(c.message)}$`), `the line: ${other[0]}`);
    assertNothingOutside(ctx);
    assert.equal(await imageNames(scratch, store.images), []);
    const image = env.images.get(c.name)!;
    const hostile = image.layers.at(-1)!;
    assert.not.ok(snapshotsIn(store.images).includes(hostile.diffID), 'no snapshot of the hostile layer');
    assert.equal(snapshotsIn(store.images).filter((d) => !image.layers.some((l) => l.diffID === d)), []);
    assert.equal(storeProblems(store.images), []);
    const prune = await imageCli(scratch, store.images, ['image', 'prune']);
    assert.is(prune.exitCode, 0, prune.all);
    assert.equal([blobsIn(store.images), snapshotsIn(store.images)], [[], []], 'a prune leaves nothing of it');
    assertNothingOutside(ctx);
  });
}

test('a symlink out of the image in a lower layer, a file under it in an upper one: confined, each layer in its own snapshot', async (ctx) => {
  const { scratch, store, env } = ctx;
  plantCanaries(ctx);
  const image = env.images.get('symlink-lower-layer')!;
  const r = await imageCli(scratch, store.images, ['pull', '-q', `${env.registry.host}/hostile/symlink-lower-layer:1`]);
  assert.is(r.exitCode, 0, r.all);
  assertNothingOutside(ctx);
  const upper = join(store.images, 'snapshots', image.layers[1]!.diffID.slice(7), 'fs');
  assert.ok(lstatSync(join(upper, 'escape')).isDirectory(), 'the upper layer\'s escape/ is a directory of its own');
  assert.is(readFileSync(join(upper, 'escape/owned'), 'utf8'), 'written by a hostile layer\n');
});

test('the same 2 MiB layer under the default --max-unpacked-size (16Gi) is pulled', async (ctx) => {
  const { scratch, store, env } = ctx;
  const r = await imageCli(scratch, store.images, ['pull', '-q', `${env.registry.host}/hostile/bomb:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(lstatSync(join(store.images, 'snapshots', env.images.get('bomb')!.layers[0]!.diffID.slice(7), 'fs', 'zeros')).size, 2 << 20);
});

run();
