// minipod pull from a real registry (Debian's docker-registry, the
// reference registry:2), through the CLI: by tag and by digest, OCI and
// Docker schema 2 manifests, an index of two platforms, the bearer-token
// flow anonymously and with credentials from REGISTRY_AUTH_FILE, and a
// second image that shares 4 of its 5 layers. What lands in the store is
// checked file by file: blobs by digest, one snapshot per layer, whiteouts
// as 0:0 devices, opaque directories, xattrs, setuid bits, hard links.
import { Buffer } from 'node:buffer';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import {
  blobsIn,
  imageCli,
  imagesJson,
  imageSuite,
  noDockerConfig,
  pullOutput,
  short,
  snapshotsIn,
  storeProblems,
  xattrHex,
  hexOf,
} from '../helpers/image-cli.ts';
import { buildImage, buildIndex, FIXED_CREATED, hostPlatform, type BuiltImage, type BuiltIndex, type Platform } from '../helpers/oci-layout.ts';
import { startRegistry, type Registry } from '../helpers/registry.ts';
import { pushImage } from '../helpers/skopeo.ts';
import { busyboxImage, busyboxLayers, BUSYBOX_CONFIG, CAP_NET_BIND_SERVICE, featureImage, multiPlatformImages } from '../helpers/test-images.ts';

interface Env {
  tmp: string;
  registry: Registry;
  /** In front of the registry, to count requests. */
  proxy: FaultProxy;
  /** In front of the registry behind bearer tokens; team/private needs alice's password. */
  bearer: FaultProxy;
  feature: BuiltImage;
  docker: BuiltImage;
  multi: BuiltIndex;
  dockerList: BuiltIndex;
  five: BuiltImage;
  fiveVariant: BuiltImage;
}

const USER = 'alice';
const PASSWORD = 'open sesame';

const { test, run } = imageSuite<Env>('minipod pull from a real registry', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minipod-images-pull-'));
  const registry = await startRegistry();
  const layout = (name: string) => join(tmp, name);
  const feature = await buildImage(featureImage(), { dir: layout('feature') });
  const docker = await buildImage({ ...busyboxImage(3), mediaTypes: 'docker' }, { dir: layout('docker') });
  const multi = await buildIndex(multiPlatformImages(), { dir: layout('multi') });
  const dockerList = await buildIndex(multiPlatformImages(), { dir: layout('docker-list'), mediaTypes: 'docker' });
  const five = await buildImage(busyboxImage(5), { dir: layout('five') });
  // The same first four layers, byte for byte (gzip is deterministic), and a fifth of its own.
  const fiveVariant = await buildImage(
    { layers: [...busyboxLayers(4), { entries: [{ type: 'file', path: 'etc/variant', content: 'the variant\n' }] }], config: BUSYBOX_CONFIG },
    { dir: layout('five-variant') },
  );
  // One push at a time: the same blobs pushed at once (feature:1 and team/private:1) race in the registry.
  const pushes: [string, string, { all?: boolean }?][] = [
    [feature.layoutDir, 'feature:1'], [feature.layoutDir, 'team/private:1'], [docker.layoutDir, 'docker:1'],
    [multi.layoutDir, 'multi:1', { all: true }], [dockerList.layoutDir, 'docker-list:1', { all: true }],
    [five.layoutDir, 'five:1'], [fiveVariant.layoutDir, 'five:2'],
  ];
  for (const [dir, name, opts] of pushes) await pushImage(dir, registry.host, name, opts);
  const proxy = await startFaultProxy({ upstream: registry.url });
  const bearer = await startFaultProxy({ upstream: registry.url, bearer: { private: { repos: ['team/private'], user: USER, password: PASSWORD } } });
  return { tmp, registry, proxy, bearer, feature, docker, multi, dockerList, five, fiveVariant };
}, async (env) => {
  await env?.proxy.stop();
  await env?.bearer.stop();
  await env?.registry.stop();
  if (env) rmSync(env.tmp, { recursive: true, force: true });
});

const platformName = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');
/** The blob GETs of a proxy, as digests, sorted. */
const blobGets = (proxy: FaultProxy) => proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).map((r) => r.path.slice(r.path.lastIndexOf('/') + 1)).sort();
const sorted = (xs: string[]) => [...xs].sort();
const snapshotFs = (images: string, diffID: string) => join(images, 'snapshots', hexOf(diffID), 'fs');

test('pull by tag: the image ID on stdout, one line per layer, each blob fetched once, and the store holds exactly the image', async ({ scratch, store, env }) => {
  const { proxy, feature } = env;
  proxy.resetCounts();
  const r = await imageCli(scratch, store.images, ['pull', `${proxy.host}/feature:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, feature.config.digest);
  const { layers, other } = pullOutput(r.stderr);
  assert.equal(other, [], r.stderr);
  assert.equal([...layers].sort(), feature.layers.map((l) => [short(l.digest), 'pulled']).sort());
  // The manifest once by tag, the config and each layer once.
  assert.is(proxy.count(/\/manifests\//), 1);
  assert.equal(blobGets(proxy), sorted([feature.config.digest, ...feature.layers.map((l) => l.digest)]));

  assert.equal(blobsIn(store.images), sorted([feature.manifest.digest, feature.config.digest, ...feature.layers.map((l) => l.digest)]));
  assert.equal(snapshotsIn(store.images), sorted(feature.layers.map((l) => l.diffID)));
  assert.equal(storeProblems(store.images), []);

  const [image, ...more] = await imagesJson(scratch, store.images);
  assert.equal(more, []);
  const sizes = feature.layers.map((l) => JSON.parse(readFileSync(join(store.images, 'snapshots', hexOf(l.diffID), 'layer.json'), 'utf8')).size as number);
  assert.equal(image, {
    names: [`${proxy.host}/feature:1`],
    manifestDigest: feature.manifest.digest,
    configDigest: feature.config.digest,
    id: feature.config.digest,
    created: FIXED_CREATED,
    size: sizes.reduce((a, b) => a + b, 0),
    config: {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat /feature/kept.txt'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FEATURE=on'],
      WorkingDir: '/feature',
      User: '0:0',
      ExposedPorts: ['8080/tcp'],
      Volumes: ['/data'],
      StopSignal: 'SIGUSR1',
    },
    platform: platformName(hostPlatform()),
  });

  const table = await imageCli(scratch, store.images, ['images']);
  assert.is(table.exitCode, 0, table.all);
  const rows = table.stdout.split('\n').map((l) => l.split(/\s{2,}/));
  assert.equal(rows[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
  assert.is(rows.length, 2, table.stdout);
  assert.equal(rows[1]!.slice(0, 3), [`${proxy.host}/feature`, '1', short(feature.config.digest)]);
  assert.match(rows[1]![3]!, / ago$/);
  assert.match(rows[1]![4]!, /^\d+(\.\d+)?[kM]B$/);
  const quiet = await imageCli(scratch, store.images, ['images', '-q']);
  assert.is(quiet.stdout, short(feature.config.digest));
});

test('the snapshots as overlayfs lowerdirs: whiteouts are 0:0 devices, the opaque dir is marked, layer.json says so; xattrs, setuid, hard link kept', async ({ scratch, store, env }) => {
  const { registry, feature } = env;
  const r = await imageCli(scratch, store.images, ['pull', '-q', `${registry.host}/feature:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stderr, '', '-q prints no progress');
  const info = feature.layers.map((l) => JSON.parse(readFileSync(join(store.images, 'snapshots', hexOf(l.diffID), 'layer.json'), 'utf8')));
  assert.equal(info.map((i) => [i.diffID, i.opaque, sorted(i.whiteouts)]), feature.layers.map((l, i) => [
    l.diffID,
    i === 4 ? ['/feature/opaque'] : [],
    i === 4 ? ['/bin/vi', '/feature/deleted.txt'] : [],
  ]));
  const top = snapshotFs(store.images, feature.layers[4]!.diffID);
  for (const gone of ['feature/deleted.txt', 'bin/vi']) {
    const st = lstatSync(join(top, gone));
    assert.equal([st.isCharacterDevice(), st.rdev, st.uid, st.gid], [true, 0, 0, 0], `${gone} is a whiteout`);
  }
  assert.is(xattrHex(join(top, 'feature/opaque'), 'trusted.overlay.opaque'), Buffer.from('y').toString('hex'));
  assert.is(readFileSync(join(top, 'feature/opaque/new'), 'utf8'), 'from layer 5\n');
  assert.is(xattrHex(join(top, 'feature'), 'trusted.overlay.opaque'), null, 'only the opaque dir is opaque');

  const third = snapshotFs(store.images, feature.layers[2]!.diffID);
  const setuid = lstatSync(join(third, 'feature/setuid'));
  assert.is(setuid.mode & 0o7777, 0o4755);
  const owned = lstatSync(join(third, 'feature/owned'));
  assert.equal([owned.mode & 0o7777, owned.uid, owned.gid], [0o640, 1000, 1000]);
  assert.is(Math.floor(lstatSync(join(third, 'feature/old')).mtimeMs / 1000), 1000000000);

  const fourth = snapshotFs(store.images, feature.layers[3]!.diffID);
  assert.is(xattrHex(join(fourth, 'feature/cap'), 'security.capability'), Buffer.from(CAP_NET_BIND_SERVICE).toString('hex'));
  assert.is(xattrHex(join(fourth, 'feature/cap'), 'user.test'), Buffer.from('hello xattr').toString('hex'));
  const hard = lstatSync(join(fourth, 'feature/hard-link'));
  assert.equal([hard.ino, hard.nlink], [lstatSync(join(fourth, 'feature/hard-target')).ino, 2]);
  const dev = lstatSync(join(fourth, 'feature/null'));
  assert.equal([dev.isCharacterDevice(), dev.rdev], [true, (1 << 8) | 3]);
  // The snapshots directory is root's alone: the image's setuid files and devices are not for the host's users.
  assert.is(lstatSync(join(store.images, 'snapshots')).mode & 0o777, 0o700);
});

test('a second pull of the same image fetches nothing but the manifest: `already exists` for every layer', async ({ scratch, store, env }) => {
  const { proxy, feature } = env;
  const first = await imageCli(scratch, store.images, ['pull', `${proxy.host}/feature:1`]);
  assert.is(first.exitCode, 0, first.all);
  proxy.resetCounts();
  const r = await imageCli(scratch, store.images, ['pull', `${proxy.host}/feature:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, feature.config.digest);
  const { layers, other } = pullOutput(r.stderr);
  assert.equal(other, []);
  assert.equal([...layers].sort(), feature.layers.map((l) => [short(l.digest), 'already exists']).sort());
  assert.is(proxy.count(/\/manifests\//), 1);
  assert.equal(blobGets(proxy).filter((d) => d !== feature.config.digest), [], 'no layer fetched again');
  assert.is((await imagesJson(scratch, store.images)).length, 1);
});

test('pull by digest: name@sha256:... pins the manifest; a digest the registry lacks is one line', async ({ scratch, store, env }) => {
  const { registry, feature } = env;
  const ref = `${registry.host}/feature@${feature.manifest.digest}`;
  const r = await imageCli(scratch, store.images, ['pull', ref]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, feature.config.digest);
  const [image] = await imagesJson(scratch, store.images);
  assert.equal([image!.names, image!.manifestDigest], [[ref], feature.manifest.digest]);

  const absent = `sha256:${'0'.repeat(64)}`;
  const missing = await imageCli(scratch, store.images, ['pull', `${registry.host}/feature@${absent}`]);
  assert.is(missing.exitCode, 125, missing.all);
  assert.is(missing.stderr, `minipod: pull ${registry.host}/feature@${absent}: GET ${registry.url}/v2/feature/manifests/${absent}: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`);
  assert.equal((await imagesJson(scratch, store.images)).flatMap((i) => i.names), [ref]);
});

test('a Docker schema 2 manifest and a Docker manifest list pull as the OCI ones do', async ({ scratch, store, env }) => {
  const { registry, docker, dockerList } = env;
  const a = await imageCli(scratch, store.images, ['pull', '-q', `${registry.host}/docker:1`]);
  assert.is(a.exitCode, 0, a.all);
  assert.is(a.stdout, docker.config.digest);
  const native = dockerList.images.find((i) => platformName(i.platform) === platformName(hostPlatform()))!;
  const b = await imageCli(scratch, store.images, ['pull', '-q', `${registry.host}/docker-list:1`]);
  assert.is(b.exitCode, 0, b.all);
  assert.is(b.stdout, native.config.digest);
  const images = await imagesJson(scratch, store.images);
  assert.equal(images.map((i) => [i.names, i.manifestDigest, i.indexDigest]).sort(), [
    [[`${registry.host}/docker-list:1`], native.manifest.digest, dockerList.index.digest],
    [[`${registry.host}/docker:1`], docker.manifest.digest, undefined],
  ]);
  assert.equal(storeProblems(store.images), []);
});

test('an index of two platforms: this machine\'s by default, --platform the other; only the chosen one\'s layers are fetched', async ({ scratch, store, env }) => {
  const { proxy, multi } = env;
  const host = hostPlatform();
  const native = multi.images.find((i) => platformName(i.platform) === platformName(host))!;
  const foreign = multi.images.find((i) => i !== native)!;
  proxy.resetCounts();
  const r = await imageCli(scratch, store.images, ['pull', `${proxy.host}/multi:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, native.config.digest);
  assert.is(readFileSync(join(snapshotFs(store.images, native.layers.at(-1)!.diffID), 'platform'), 'utf8'), `${platformName(host)}\n`);
  assert.equal(blobGets(proxy), sorted([native.config.digest, ...native.layers.map((l) => l.digest)]));

  proxy.resetCounts();
  // linux/arm64 is linux/arm64/v8, and linux/amd64 itself: either way, the other entry.
  const asked = foreign.platform.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  const other = await imageCli(scratch, store.images, ['pull', '--platform', asked, `${proxy.host}/multi:1`]);
  assert.is(other.exitCode, 0, other.all);
  assert.is(other.stdout, foreign.config.digest);
  assert.is(readFileSync(join(snapshotFs(store.images, foreign.layers[0]!.diffID), 'platform'), 'utf8'), `${platformName(foreign.platform)}\n`);
  assert.equal(blobGets(proxy), sorted([foreign.config.digest, foreign.layers[0]!.digest]));

  const images = await imagesJson(scratch, store.images);
  // The name moved to the image pulled last; the first is left without a name.
  assert.equal(images.map((i) => [i.names, i.platform, i.indexDigest ?? null]).sort(), [
    [[], platformName(native.platform), null],
    [[`${proxy.host}/multi:1`], platformName(foreign.platform), multi.index.digest],
  ].sort());
  assert.equal(storeProblems(store.images), []);
});

test('a platform the index lacks: one line listing the platforms it has, nothing kept', async ({ scratch, store, env }) => {
  const { registry, multi } = env;
  const r = await imageCli(scratch, store.images, ['pull', '--platform', 'linux/s390x', `${registry.host}/multi:1`]);
  assert.is(r.exitCode, 125, r.all);
  const has = multi.images.map((i) => platformName(i.platform)).join(', ');
  assert.is(r.stderr, `minipod: pull ${registry.host}/multi:1: no image for linux/s390x in index ${multi.index.digest} (it has ${has}; --platform chooses another)`);
  assert.is(r.stdout, '');
  assert.equal(await imagesJson(scratch, store.images), []);
  assert.equal(snapshotsIn(store.images), []);
  assert.equal(storeProblems(store.images), []);
});

test('a second image sharing 4 of its 5 layers: only the new layer and the config are fetched, `already exists` for the others', async ({ scratch, store, env }) => {
  const { proxy, five, fiveVariant } = env;
  const first = await imageCli(scratch, store.images, ['pull', `${proxy.host}/five:1`]);
  assert.is(first.exitCode, 0, first.all);
  proxy.resetCounts();
  const r = await imageCli(scratch, store.images, ['pull', `${proxy.host}/five:2`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, fiveVariant.config.digest);
  assert.equal(fiveVariant.layers.slice(0, 4).map((l) => l.digest), five.layers.slice(0, 4).map((l) => l.digest), 'the images share 4 layers');
  assert.equal(blobGets(proxy), sorted([fiveVariant.config.digest, fiveVariant.layers[4]!.digest]));
  assert.is(proxy.count(/\/manifests\//), 1);
  const { layers, other } = pullOutput(r.stderr);
  assert.equal(other, []);
  assert.equal([...layers].sort(), fiveVariant.layers.map((l, i) => [short(l.digest), i < 4 ? 'already exists' : 'pulled']).sort());
  assert.equal(snapshotsIn(store.images), sorted([...five.layers, fiveVariant.layers[4]!].map((l) => l.diffID)));
  assert.equal((await imagesJson(scratch, store.images)).map((i) => i.names[0]).sort(), [`${proxy.host}/five:1`, `${proxy.host}/five:2`]);
});

test('the bearer-token flow, anonymously: one token for the repository\'s pull scope, asked without credentials', async ({ scratch, store, env }) => {
  const { bearer, feature } = env;
  bearer.resetCounts();
  bearer.tokenRequests.length = 0;
  const r = await imageCli(scratch, store.images, ['pull', '-q', `${bearer.host}/feature:1`]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, feature.config.digest);
  assert.equal(bearer.tokenRequests.map((t) => [t.service, t.scopes, t.user, t.granted, t.status]), [
    ['minipod-test', ['repository:feature:pull'], null, ['feature'], 200],
  ]);
  // Everything after the first refusal carried the token: each blob answered once, 200.
  const blobs = bearer.requests.filter((q) => q.path.includes('/blobs/'));
  assert.equal(blobs.map((q) => q.status), blobs.map(() => 200));
  assert.is(blobs.length, 1 + feature.layers.length);
});

test('a private repository with credentials from REGISTRY_AUTH_FILE: the token endpoint gets them, the pull succeeds', async ({ scratch, store, env }) => {
  const { bearer, feature } = env;
  bearer.tokenRequests.length = 0;
  const authFile = join(store.dir, 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [bearer.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
  const r = await imageCli(scratch, store.images, ['pull', '-q', `${bearer.host}/team/private:1`], { env: { REGISTRY_AUTH_FILE: authFile } });
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, feature.config.digest);
  assert.equal(bearer.tokenRequests.map((t) => [t.scopes, t.user, t.granted, t.status]), [[['repository:team/private:pull'], USER, ['team/private'], 200]]);
  assert.equal((await imagesJson(scratch, store.images)).map((i) => i.names), [[`${bearer.host}/team/private:1`]]);
});

test('a private repository with wrong credentials, or none: one clear line, nothing kept', async ({ scratch, store, env }) => {
  const { bearer } = env;
  const ref = `${bearer.host}/team/private:1`;
  const authFile = join(store.dir, 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [bearer.host]: { username: USER, password: 'wrong' } } }));
  const wrong = await imageCli(scratch, store.images, ['pull', ref], { env: { REGISTRY_AUTH_FILE: authFile } });
  assert.is(wrong.exitCode, 125, wrong.all);
  const tokenURL = `http://${bearer.host}/token?service=minipod-test&scope=repository%3Ateam%2Fprivate%3Apull`;
  assert.is(wrong.stderr, `minipod: pull ${ref}: GET ${tokenURL}: 401 Unauthorized: incorrect username or password (with the credentials of ${authFile} (${bearer.host}))`);

  const none = await imageCli(scratch, store.images, ['pull', ref]);
  assert.is(none.exitCode, 125, none.all);
  assert.is(none.stderr, `minipod: pull ${ref}: GET ${bearer.url}/v2/team/private/manifests/1: 401 Unauthorized: UNAUTHORIZED: authentication required (no credentials for ${bearer.host} in ${join(noDockerConfig(scratch), 'config.json')})`);
  assert.equal(await imagesJson(scratch, store.images), []);
  assert.equal(blobsIn(store.images), []);
  assert.equal(storeProblems(store.images), []);
});

test('a reference that does not parse, and usage errors: exactly one line, exit 125, no store made', async ({ scratch, store }) => {
  const cases: [string[], string][] = [
    [['pull', 'Upper/Case'], 'minipod: invalid reference format: "Upper/Case": repository name must be lowercase'],
    [['pull'], 'minipod: usage: minipod [--images DIR] pull [--platform OS/ARCH[/VARIANT]] [--tls-verify=false] [--max-unpacked-size SIZE] [-q] REF'],
    [['pull', '--platform', 'linux', '127.0.0.1:1/x:1'], 'minipod: invalid platform "linux": expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8'],
    [['pull', '--tls-verify=maybe', '127.0.0.1:1/x:1'], 'minipod: --tls-verify: Invalid value: "maybe": must be true or false'],
  ];
  for (const [args, line] of cases) {
    const r = await imageCli(scratch, store.images, args);
    assert.equal([r.exitCode, r.stdout, r.stderr], [125, '', line], args.join(' '));
  }
  const size = await imageCli(scratch, store.images, ['pull', '--max-unpacked-size', 'lots', '127.0.0.1:1/x:1']);
  assert.is(size.exitCode, 125);
  assert.match(size.stderr, /^minipod: --max-unpacked-size: Invalid value: "lots": [^\n]+ \(such as 512Mi, 16Gi\)$/);
  assert.equal(blobsIn(store.images), []);
});

run();
