// Pods on pulled images, through the CLI: the container's root is a real
// overlay of the image's layers (looked at from the host through
// /proc/PID/root), two containers on two images with a common base,
// imagePullPolicy as the kubelet applies it (counted at the registry), a
// failed pull (ErrImagePull, ImagePullBackOff, run -d that does not hang),
// and rmi / image prune against an image a pod uses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import * as assert from 'uvu/assert';
import type { PodRecord } from '../../lib/state/record.ts';
import { linesOf, waitFor, type Scratch } from '../helpers/cli.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { blobsIn, imageCli, imageNames, imagesJson, imageSuite, snapshotsIn, storeProblems, xattrHex, type ImageContext } from '../helpers/image-cli.ts';
import { buildImage, type BuiltImage } from '../helpers/oci-layout.ts';
import { startRegistry, type Registry } from '../helpers/registry.ts';
import { withSeen, type Seen } from '../helpers/reliability.ts';
import { pushImage } from '../helpers/skopeo.ts';
import { CAP_NET_BIND_SERVICE, FEATURE_TREE, featureImage, sharedBaseImage, treeDifferences } from '../helpers/test-images.ts';

interface Env {
  tmp: string;
  registry: Registry;
  proxy: FaultProxy;
  feature: BuiltImage;
  shared: BuiltImage;
}

const { test, run } = imageSuite<Env>('pods on pulled images', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minipod-images-run-'));
  const registry = await startRegistry();
  const feature = await buildImage(featureImage(), { dir: join(tmp, 'feature') });
  const shared = await buildImage(sharedBaseImage(), { dir: join(tmp, 'shared') });
  // One push at a time: the same blobs pushed at once race in the registry.
  await pushImage(feature.layoutDir, registry.host, 'feature:1');
  await pushImage(feature.layoutDir, registry.host, 'feature:latest');
  await pushImage(shared.layoutDir, registry.host, 'shared:1');
  const proxy = await startFaultProxy({ upstream: registry.url });
  return { tmp, registry, proxy, feature, shared };
}, async (env) => {
  await env?.proxy.stop();
  await env?.registry.stop();
  if (env) rmSync(env.tmp, { recursive: true, force: true });
});

/** Ends at once on SIGTERM. */
const WAIT = 'echo ready; trap "exit 0" TERM; sleep 1000 & wait';
const GRACE = { terminationGracePeriodSeconds: 2 };

interface Container {
  name: string;
  image: string;
  script: string;
  imagePullPolicy?: string;
}

function podOf(name: string, containers: Container[], spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      ...GRACE,
      ...spec,
      containers: containers.map(({ script, ...c }) => ({ ...c, command: ['sh', '-c', script] })),
    },
  };
}

/** A pod of one container `c` on IMAGE running SCRIPT. */
const onePod = (name: string, image: string, script: string, extra: Partial<Container> = {}) => podOf(name, [{ name: 'c', image, script, ...extra }]);

const blobGets = (proxy: FaultProxy) => proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).length;

async function pull(ctx: ImageContext, ref: string): Promise<void> {
  const r = await imageCli(ctx.scratch, ctx.store.images, ['pull', '-q', ref]);
  assert.is(r.exitCode, 0, r.all);
}

async function podRecord(scratch: Scratch, seen: Seen, id: string): Promise<PodRecord> {
  const r = await scratch.minipod(['ps', '-a', '-o', 'json']);
  assert.is(r.exitCode, 0, r.all);
  const record = (JSON.parse(r.stdout) as PodRecord[]).find((p) => p.id === id);
  assert.ok(record, `pod ${id} in ps -a: ${r.stdout}`);
  seen.pod(record);
  return record;
}

/** run -d, then wait until the container said `ready`; its record. */
async function runDetached(ctx: ImageContext, seen: Seen, manifest: object): Promise<{ id: string; record: PodRecord }> {
  const file = ctx.scratch.manifest('pod.json', manifest);
  const r = await imageCli(ctx.scratch, ctx.store.images, ['run', '-d', file]);
  assert.is(r.exitCode, 0, r.all);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{12}$/, r.all);
  await waitFor(() => (logsOf(ctx.scratch, id).includes('ready') ? true : undefined), `pod ${id} to say ready`);
  return { id, record: await podRecord(ctx.scratch, seen, id) };
}

function logsOf(scratch: Scratch, id: string): string {
  // The CRI log files the supervisor writes, read directly: no CLI round trip in a poll.
  try {
    const state = JSON.parse(readFileSync(join(scratch.root, id, 'state.json'), 'utf8')) as PodRecord;
    const dir = join(state.logDir, 'c');
    return readFileSync(join(dir, '0.log'), 'utf8').split('\n').map((l) => l.split(' ').slice(3).join(' ')).join('\n');
  } catch {
    return '';
  }
}

async function rmPod(scratch: Scratch, id: string): Promise<void> {
  const r = await scratch.minipod(['rm', '-f', id]);
  assert.is(r.exitCode, 0, r.all);
}

test('the container\'s root is an overlay of the image\'s layers: FEATURE_TREE from the host through /proc/PID/root, xattrs through the overlay, the config applied', async (ctx) => {
  const { scratch, env } = ctx;
  await withSeen(scratch, async (seen) => {
    const script = [
      'echo "pwd=$(pwd) feature=$FEATURE id=$(id -u):$(id -g)"',
      'echo "opaque: $(ls -a /feature/opaque | tr "\\n" " ")"',
      'echo "chain: $(cat /feature/a)"',
      'test -e /bin/vi || echo "no vi"',
      'test -d /data && echo "/data is a volume"',
      WAIT,
    ].join('; ');
    const { id, record } = await runDetached(ctx, seen, onePod('feature', `${env.registry.host}/feature:1`, script));
    const pid = record.containers[0]!.process!.pid;
    const root = `/proc/${pid}/root`;
    assert.equal(treeDifferences(root, FEATURE_TREE), []);
    assert.is(xattrHex(`${root}/feature/cap`, 'security.capability'), Buffer.from(CAP_NET_BIND_SERVICE).toString('hex'));
    const mount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    assert.is(mount?.split(' - ')[1]?.split(' ')[0], 'overlay', `the root is an overlay: ${mount}`);
    assert.equal(logsOf(scratch, id).split('\n').filter(Boolean), [
      'pwd=/feature feature=on id=0:0',
      'opaque: . .. new ',
      'chain: end of the chain',
      'no vi',
      '/data is a volume',
      'ready',
    ]);
    assert.is(record.containers[0]!.imageID, `${env.registry.host}/feature@${env.feature.manifest.digest}`);
    await rmPod(scratch, id);
  });
});

test('a pod whose two containers use two images with a common base: both run, each sees its own image; the base is unpacked once', async (ctx) => {
  const { scratch, store, env } = ctx;
  const script = 'cat /shared.txt /feature/kept.txt 2>&1; ls /bin/busybox';
  const file = scratch.manifest('pod.json', podOf('two', [
    { name: 'a', image: `${env.registry.host}/feature:1`, script },
    { name: 'b', image: `${env.registry.host}/shared:1`, script },
  ]));
  const r = await imageCli(scratch, store.images, ['run', file]);
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'a'), ["cat: can't open '/shared.txt': No such file or directory", 'kept', '/bin/busybox']);
  assert.equal(linesOf(r.stdout, 'b'), ['the shared-base image', "cat: can't open '/feature/kept.txt': No such file or directory", '/bin/busybox']);
  assert.equal(env.shared.layers.slice(0, 2).map((l) => l.diffID), env.feature.layers.slice(0, 2).map((l) => l.diffID));
  assert.equal(snapshotsIn(store.images), [...env.feature.layers, env.shared.layers[2]!].map((l) => l.diffID).sort());
  assert.equal(await imageNames(scratch, store.images), [`${env.registry.host}/feature:1`, `${env.registry.host}/shared:1`]);
});

interface PolicyCase {
  title: string;
  ref: (host: string) => string;
  policy?: string;
  /** Pulled (through the proxy) before the run. */
  present: boolean;
  /** Manifest and blob GETs the run makes. */
  manifests: number;
  blobs: 'none' | 'config' | 'all';
}

const POLICIES: PolicyCase[] = [
  { title: 'IfNotPresent, present: no request to the registry', ref: (h) => `${h}/feature:1`, policy: 'IfNotPresent', present: true, manifests: 0, blobs: 'none' },
  { title: 'IfNotPresent, absent: pulled', ref: (h) => `${h}/feature:1`, policy: 'IfNotPresent', present: false, manifests: 1, blobs: 'all' },
  { title: 'Never, present: no request', ref: (h) => `${h}/feature:1`, policy: 'Never', present: true, manifests: 0, blobs: 'none' },
  { title: 'Always, present: the manifest asked for again, no layer fetched', ref: (h) => `${h}/feature:1`, policy: 'Always', present: true, manifests: 1, blobs: 'config' },
  { title: 'no policy, :latest present: Always', ref: (h) => `${h}/feature:latest`, present: true, manifests: 1, blobs: 'config' },
  { title: 'no policy, no tag present: Always (it is :latest)', ref: (h) => `${h}/feature`, present: true, manifests: 1, blobs: 'config' },
  { title: 'no policy, a tag present: IfNotPresent, no request', ref: (h) => `${h}/feature:1`, present: true, manifests: 0, blobs: 'none' },
];

for (const c of POLICIES) {
  test(`imagePullPolicy ${c.title}`, async (ctx) => {
    const { scratch, store, env } = ctx;
    const { proxy, feature } = env;
    const ref = c.ref(proxy.host);
    if (c.present) await pull(ctx, ref);
    proxy.resetCounts();
    const file = scratch.manifest('pod.json', onePod('policy', ref, 'cat /feature/kept.txt', c.policy ? { imagePullPolicy: c.policy } : {}));
    const r = await imageCli(scratch, store.images, ['run', file]);
    assert.is(r.exitCode, 0, r.all);
    assert.equal(linesOf(r.stdout, 'c'), ['kept']);
    const blobs = { none: 0, config: 1, all: 1 + feature.layers.length }[c.blobs];
    assert.equal([proxy.count(/\/manifests\//), blobGets(proxy)], [c.manifests, blobs], `manifest and blob GETs: ${JSON.stringify(proxy.requests)}`);
    if (c.manifests === 0) assert.equal(proxy.requests, [], 'not even /v2/');
  });
}

test('imagePullPolicy Never with the image absent: ErrImageNeverPull in one line, exit 125, nothing asked of the registry, no pod', async ({ scratch, store, env }) => {
  const { proxy } = env;
  proxy.resetCounts();
  const ref = `${proxy.host}/feature:1`;
  const file = scratch.manifest('pod.json', onePod('never', ref, 'true', { imagePullPolicy: 'Never' }));
  for (const args of [['run', file], ['run', '-d', file]]) {
    const r = await imageCli(scratch, store.images, args);
    assert.equal([r.exitCode, r.stdout, r.stderr], [125, '', `minipod: spec.containers[0].image: ErrImageNeverPull: Container image "${ref}" is not present with pull policy of Never`], args.join(' '));
  }
  assert.equal(proxy.requests, []);
});

test('run -d with an image that cannot be pulled: ErrImagePull at once, exit 125, one line, no pod left', async ({ scratch, store, env }) => {
  const { registry } = env;
  const ref = `${registry.host}/absent:1`;
  const file = scratch.manifest('pod.json', onePod('absent', ref, 'true'));
  for (const args of [['run', '-d', file], ['run', file]]) {
    const t0 = performance.now();
    const r = await imageCli(scratch, store.images, args, { timeout: 20_000 });
    const ms = performance.now() - t0;
    assert.equal([r.exitCode, r.stdout], [125, ''], `${args.join(' ')}: ${r.all}`);
    assert.is(r.stderr, `minipod: spec.containers[0].image: ErrImagePull: pull ${ref}: GET ${registry.url}/v2/absent/manifests/1: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`);
    assert.ok(ms < 5000, `${args.join(' ')} returned after ${Math.round(ms)} ms`);
  }
  assert.equal(storeProblems(store.images), []);
  assert.equal(await imageNames(scratch, store.images), []);
});

test('a pod that restarts waits for its image: ErrImagePull, ImagePullBackOff with the backoff, then it runs once the registry answers', async ({ scratch, store, env }) => {
  const { proxy } = env;
  proxy.clearFaults();
  proxy.fault(/\/manifests\//, { kind: 'status', status: 500 }, { times: 2 });
  const ref = `${proxy.host}/feature:1`;
  const file = scratch.manifest('pod.json', podOf('backoff', [{ name: 'c', image: ref, script: 'cat /feature/kept.txt' }], { restartPolicy: 'OnFailure' }));
  const r = await imageCli(scratch, store.images, ['run', '--backoff', '0.2', file]);
  proxy.clearFaults();
  assert.is(r.exitCode, 0, r.all);
  assert.equal(linesOf(r.stdout, 'c'), ['kept']);
  const failed = `minipod: spec.containers[0].image: ErrImagePull: pull ${ref}: GET ${proxy.url}/v2/feature/manifests/1: 500 Internal Server Error: UNKNOWN: unknown error`;
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('minipod: ')), [
    failed,
    'minipod: ImagePullBackOff: Back-off pulling image: trying again in 0.2s (Ctrl-C stops)',
    failed,
    'minipod: ImagePullBackOff: Back-off pulling image: trying again in 0.4s (Ctrl-C stops)',
  ]);
});

test('rmi of an image a running pod uses is refused; after rm -f of the pod it succeeds and removes every blob and layer', async (ctx) => {
  const { scratch, store, env } = ctx;
  const ref = `${env.registry.host}/feature:1`;
  await withSeen(scratch, async (seen) => {
    const { id } = await runDetached(ctx, seen, onePod('user', ref, WAIT));
    const refused = await imageCli(scratch, store.images, ['rmi', ref]);
    assert.equal([refused.exitCode, refused.stdout, refused.stderr], [125, '', `minipod: image "${ref}" is in use by pod ${id}`]);
    const byId = await imageCli(scratch, store.images, ['rmi', env.feature.config.digest.slice(7, 19)]);
    assert.equal([byId.exitCode, byId.stderr], [125, `minipod: image "${env.feature.config.digest.slice(7, 19)}" is in use by pod ${id}`]);
    const prune = await imageCli(scratch, store.images, ['image', 'prune']);
    assert.is(prune.exitCode, 0, prune.all);
    assert.equal(await imageNames(scratch, store.images), [ref]);
    assert.equal(snapshotsIn(store.images), env.feature.layers.map((l) => l.diffID).sort());
    await rmPod(scratch, id);
  });
  const r = await imageCli(scratch, store.images, ['rmi', ref]);
  assert.is(r.exitCode, 0, r.all);
  assert.is(r.stdout, `Untagged: ${ref}\nDeleted: ${env.feature.config.digest}`);
  assert.equal([blobsIn(store.images), snapshotsIn(store.images)], [[], []]);
  assert.equal(await imagesJson(scratch, store.images), []);
  assert.equal(storeProblems(store.images), []);
});

test('rmi -f of an image in use untags it at once; it is kept for its pod, and image prune deletes it once the pod is gone', async (ctx) => {
  const { scratch, store, env } = ctx;
  const ref = `${env.registry.host}/feature:1`;
  await withSeen(scratch, async (seen) => {
    const { id } = await runDetached(ctx, seen, onePod('user', ref, WAIT));
    const forced = await imageCli(scratch, store.images, ['rmi', '-f', ref]);
    assert.equal([forced.exitCode, forced.stdout], [0, `Untagged: ${ref}`], forced.all);
    const [kept, ...more] = await imagesJson(scratch, store.images);
    assert.equal([kept?.names, kept?.id, more], [[], env.feature.config.digest, []]);
    const early = await imageCli(scratch, store.images, ['image', 'prune']);
    assert.equal([early.exitCode, early.stdout], [0, 'Total reclaimed space: 0B'], 'nothing pruned while the pod runs');
    await rmPod(scratch, id);
  });
  const prune = await imageCli(scratch, store.images, ['image', 'prune']);
  assert.is(prune.exitCode, 0, prune.all);
  const [deleted, total] = prune.stdout.split('\n');
  assert.equal([deleted, prune.stdout.split('\n').length], [`Deleted: ${env.feature.config.digest}`, 2]);
  assert.match(total!, /^Total reclaimed space: \d+(\.\d+)?[kM]B$/);
  assert.equal([blobsIn(store.images), snapshotsIn(store.images)], [[], []]);
});

test('image prune removes a dangling image (its tag moved) and what only it used; the new image and the shared base stay', async ({ scratch, store, env }) => {
  const { registry, feature, shared } = env;
  const ref = `${registry.host}/moving:1`;
  await pushImage(feature.layoutDir, registry.host, 'moving:1');
  let r = await imageCli(scratch, store.images, ['pull', '-q', ref]);
  assert.is(r.exitCode, 0, r.all);
  await pushImage(shared.layoutDir, registry.host, 'moving:1');
  r = await imageCli(scratch, store.images, ['pull', '-q', ref]);
  assert.is(r.exitCode, 0, r.all);
  const table = await imageCli(scratch, store.images, ['images']);
  const rows = table.stdout.split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3)).sort();
  assert.equal(rows, [
    ['<none>', '<none>', feature.config.digest.slice(7, 19)],
    [`${registry.host}/moving`, '1', shared.config.digest.slice(7, 19)],
  ].sort());
  const prune = await imageCli(scratch, store.images, ['image', 'prune']);
  assert.is(prune.exitCode, 0, prune.all);
  assert.is(prune.stdout.split('\n')[0], `Deleted: ${feature.config.digest}`);
  assert.equal((await imagesJson(scratch, store.images)).map((i) => [i.names, i.id]), [[[ref], shared.config.digest]]);
  assert.equal(blobsIn(store.images), [shared.manifest.digest, shared.config.digest, ...shared.layers.map((l) => l.digest)].sort());
  assert.equal(snapshotsIn(store.images), shared.layers.map((l) => l.diffID).sort());
  const again = await imageCli(scratch, store.images, ['image', 'prune']);
  assert.equal([again.exitCode, again.stdout], [0, 'Total reclaimed space: 0B']);
  assert.equal(storeProblems(store.images), []);
});

run();
