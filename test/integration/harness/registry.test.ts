// The real registry of the image tests (docker-registry) and skopeo's
// pushes to it: it starts on a free port and answers, it is gone with its
// dir after stop(), with htpasswd and TLS as asked; what skopeo pushes
// from the hand-written layouts is served with the digests we computed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../../helpers/assert.ts';
import { buildImage, buildIndex, readBlob, sha256 } from '../../helpers/oci-layout.ts';
import { startRegistry, type Registry } from '../../helpers/registry.ts';
import { childrenOf, cmdline, running } from '../../helpers/reliability.ts';
import { pushImage, skopeoInspect } from '../../helpers/skopeo.ts';
import { busyboxImage, featureImage, multiPlatformImages, sharedBaseImage } from '../../helpers/test-images.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-registry-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await fn();
  console.log(`    ${label}: ${Math.round(performance.now() - t0)} ms`);
  return value;
}

/** A registry for FN, stopped whatever happens, and then checked gone. */
async function withRegistry(opts: Parameters<typeof startRegistry>[0], fn: (r: Registry) => Promise<void>): Promise<void> {
  const registry = await timed('start the registry', () => startRegistry(opts));
  try {
    await fn(registry);
  } finally {
    await timed('stop it', () => registry.stop());
  }
  assert.not.ok(running(registry.pid), `docker-registry ${registry.pid} still runs`);
  assert.not.ok(existsSync(registry.dir), `${registry.dir} is left`);
}

const registryChildren = () => childrenOf(process.pid).filter((pid) => cmdline(pid).includes('docker-registry'));
const registryDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('minipod-registry-') && !n.startsWith('minipod-registry-test-'));

test('startRegistry: our child on 127.0.0.1 answers /v2/; stop() ends it by pid and removes its dir, and may be called twice', async () => {
  const seen: Registry[] = [];
  await withRegistry({}, async (r) => {
    seen.push(r);
    assert.match(r.host, /^127\.0\.0\.1:\d+$/);
    assert.is(r.url, `http://${r.host}`);
    assert.ok(registryChildren().includes(r.pid), `docker-registry ${r.pid} is our child`);
    assert.match(cmdline(r.pid), new RegExp(`docker-registry serve ${r.dir}/config.yml`));
    const res = await fetch(`${r.url}/v2/`);
    assert.equal([res.status, res.headers.get('docker-distribution-api-version'), await res.text()], [200, 'registry/2.0', '{}']);
    assert.ok(existsSync(join(r.dir, 'config.yml')));
  });
  await seen[0]!.stop();
});

test('htpasswd over plain HTTP: 401 with a Basic challenge, 200 with the password, 401 with a wrong one', async () => {
  await withRegistry({ htpasswd: { user: 'alice', password: 's3cret' } }, async (r) => {
    const get = (auth?: string) => fetch(`${r.url}/v2/`, { headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} });
    const anonymous = await get();
    assert.equal([anonymous.status, anonymous.headers.get('www-authenticate')], [401, 'Basic realm="minipod-test"']);
    assert.equal(((await anonymous.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');
    assert.is((await get('alice:s3cret')).status, 200);
    assert.is((await get('alice:wrong')).status, 401);
    assert.match(readFileSync(join(r.dir, 'htpasswd'), 'utf8'), /^alice:\$2y\$/);
  });
});

test('tls: HTTPS with a self-signed certificate for 127.0.0.1, which skopeo pushes to with --dest-tls-verify=false', async () => {
  await withRegistry({ tls: true }, async (r) => {
    assert.is(r.url, `https://${r.host}`);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(`${r.url}/v2/`, { ca: readFileSync(r.certFile!) }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.is(status, 200);
    await rejects(fetch(`${r.url}/v2/`), /fetch failed/);
    const image = await buildImage(busyboxImage(1), { dir: join(tmp, 'tls') });
    assert.is(await pushImage(image.layoutDir, r.host, 'busybox:tls'), image.manifest.digest);
  });
});

test('a port already taken: the registry starts on another one', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
  const taken = (holder.address() as { port: number }).port;
  try {
    await withRegistry({ port: taken }, async (r) => {
      assert.is.not(r.host, `127.0.0.1:${taken}`);
      assert.is((await fetch(`${r.url}/v2/`)).status, 200);
    });
  } finally {
    holder.close();
  }
});

test('a registry that does not answer in time: an error, and neither the process nor the dir is left', async () => {
  const dirsBefore = registryDirs();
  await rejects(startRegistry({ readyTimeoutMs: 1 }), /^docker-registry did not start: .*\/v2\/ did not answer within 1 ms/);
  assert.equal(registryChildren(), []);
  assert.equal(registryDirs(), dirsBefore);
});

test('skopeo pushes the feature image, an index (--all), Docker schema 2 and a manifest list byte for byte', async () => {
  await withRegistry({}, async (r) => {
    const feature = await timed('build the feature image', () => buildImage(featureImage(), { dir: join(tmp, 'feature') }));
    assert.is(await timed('push it', () => pushImage(feature.layoutDir, r.host, 'feature:1')), feature.manifest.digest);
    const raw = await timed('skopeo inspect --raw', () => skopeoInspect(`docker://${r.host}/feature:1`, { raw: true }));
    assert.is(sha256(Buffer.from(raw)), feature.manifest.digest);
    assert.is(raw, readBlob(feature.layoutDir, feature.manifest.digest).toString());
    const summary = JSON.parse(await skopeoInspect(`docker://${r.host}/feature:1`));
    assert.equal([summary.Digest, summary.Layers], [feature.manifest.digest, feature.layers.map((l) => l.digest)]);
    assert.is(sha256(Buffer.from(await skopeoInspect(`docker://${r.host}/feature:1`, { raw: true, config: true }))), feature.config.digest);

    const index = await timed('build the index', () => buildIndex(multiPlatformImages(), { dir: join(tmp, 'index') }));
    assert.is(await timed('push it (--all)', () => pushImage(index.layoutDir, r.host, 'multi:1', { all: true })), index.index.digest);
    assert.is(sha256(Buffer.from(await skopeoInspect(`docker://${r.host}/multi:1`, { raw: true }))), index.index.digest);
    for (const image of index.images) {
      const res = await fetch(`${r.url}/v2/multi/manifests/${image.manifest.digest}`, { headers: { Accept: image.manifest.mediaType } });
      assert.equal([res.status, sha256(Buffer.from(await res.arrayBuffer()))], [200, image.manifest.digest], `${image.platform.architecture} manifest`);
    }

    const docker = await buildImage({ ...busyboxImage(2), mediaTypes: 'docker' }, { dir: join(tmp, 'docker') });
    assert.is(await pushImage(docker.layoutDir, r.host, 'docker:1'), docker.manifest.digest);
    const list = await buildIndex(multiPlatformImages(), { dir: join(tmp, 'docker-list'), mediaTypes: 'docker' });
    assert.is(await pushImage(list.layoutDir, r.host, 'docker-list:1', { all: true }), list.index.digest);
    const res = await fetch(`${r.url}/v2/docker-list/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } });
    assert.equal([res.headers.get('content-type'), res.headers.get('docker-content-digest')], ['application/vnd.docker.distribution.manifest.list.v2+json', list.index.digest]);
  });
});

test('with htpasswd: skopeo pushes and reads with the credentials, and is refused without', async () => {
  await withRegistry({ htpasswd: { user: 'alice', password: 's3cret' } }, async (r) => {
    const image = await buildImage(sharedBaseImage(), { dir: join(tmp, 'private') });
    assert.is(await pushImage(image.layoutDir, r.host, 'private/app:1', { creds: 'alice:s3cret' }), image.manifest.digest);
    assert.is(JSON.parse(await skopeoInspect(`docker://${r.host}/private/app:1`, { creds: 'alice:s3cret' })).Digest, image.manifest.digest);
    await rejects(skopeoInspect(`docker://${r.host}/private/app:1`), /^skopeo inspect docker:\/\/127\.0\.0\.1:\d+\/private\/app:1: .*(unauthorized|authentication required)/);
  });
});

test('an image sharing the feature image\'s base: the registry already has its first two layers', async () => {
  await withRegistry({}, async (r) => {
    const feature = await buildImage(featureImage(), { dir: join(tmp, 'base') });
    const shared = await buildImage(sharedBaseImage(), { dir: join(tmp, 'base'), ref: 'shared' });
    await pushImage(feature.layoutDir, r.host, 'feature:1');
    const has = async (name: string, digest: string) => (await fetch(`${r.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' })).status;
    assert.equal(await Promise.all(shared.layers.map((l) => has('feature', l.digest))), [200, 200, 404]);
    assert.is(await pushImage(shared.layoutDir, r.host, 'feature:shared', { ref: 'shared' }), shared.manifest.digest);
    assert.is(await has('feature', shared.layers[2]!.digest), 200);
  });
});

test.run();
