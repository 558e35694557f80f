// The fault proxy in front of a real registry: every fault does what it
// says to a fetch of a real blob, the redirect's other host sees no
// Authorization, the bearer gate asks and grants as Docker Hub's does, and
// stop() ends everything, stalled connections included.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../../helpers/assert.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { buildImage, readBlob, type BuiltImage } from '../../helpers/oci-layout.ts';
import { startRegistry, type Registry } from '../../helpers/registry.ts';
import { pushImage } from '../../helpers/skopeo.ts';
import { featureImage, sharedBaseImage } from '../../helpers/test-images.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-fault-proxy-'));
let registry: Registry;
let proxy: FaultProxy;
let image: BuiltImage;

test.before(async () => {
  const t0 = performance.now();
  registry = await startRegistry();
  image = await buildImage(featureImage(), { dir: join(tmp, 'feature') });
  await pushImage(image.layoutDir, registry.host, 'feature:1');
  const shared = await buildImage(sharedBaseImage(), { dir: join(tmp, 'feature'), ref: 'shared' });
  await pushImage(shared.layoutDir, registry.host, 'team/private:1', { ref: 'shared' });
  proxy = await startFaultProxy({ upstream: registry.url });
  console.log(`    registry, feature image built and pushed, proxy: ${Math.round(performance.now() - t0)} ms`);
});
test.after(async () => {
  await proxy?.stop();
  await registry?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
test.before.each(() => {
  proxy.clearFaults();
  proxy.resetCounts();
});

const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layer = () => image.layers[2]!; // the feature layer: a few hundred bytes
const blobPath = () => `/v2/feature/blobs/${layer().digest}`;
const get = (path: string, init: RequestInit = {}) => fetch(`${proxy.url}${path}`, { signal: AbortSignal.timeout(5000), ...init });
const body = async (res: Response) => Buffer.from(await res.arrayBuffer());

/** What a raw client reads of PATH until the server closes: the status line and how many body bytes came. */
function rawGet(path: string): Promise<{ head: string; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    const [host, port] = proxy.host.split(':');
    const socket = connect(Number(port), host, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${proxy.host}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end).toString(), bodyBytes: all.length - end - 4 });
    });
  });
}

test('no fault: manifests and blobs pass unchanged, and every request is counted', async () => {
  const m = await get('/v2/feature/manifests/1', { headers: { Accept: image.manifest.mediaType } });
  assert.equal([m.status, m.headers.get('docker-content-digest'), digestOf(await body(m))], [200, image.manifest.digest, image.manifest.digest]);
  const b = await get(blobPath());
  assert.equal([b.status, digestOf(await body(b))], [200, layer().digest]);
  await body(await get(blobPath()));
  const head = await get(blobPath(), { method: 'HEAD' });
  assert.equal([head.status, head.headers.get('content-length')], [200, String(layer().size)]);
  assert.equal([proxy.count(/\/manifests\//), proxy.count(/\/blobs\//), proxy.count(/\/blobs\//, 'HEAD')], [1, 2, 1]);
  assert.equal(proxy.requests.map((r) => [r.method, r.status, r.fault]), [['GET', 200, null], ['GET', 200, null], ['GET', 200, null], ['HEAD', 200, null]]);
});

test('flip: same length, one byte inverted, so a wrong digest', async () => {
  proxy.fault(/\/blobs\//, { kind: 'flip' });
  const got = await body(await get(blobPath()));
  const want = readBlob(image.layoutDir, layer().digest);
  assert.is(got.length, want.length);
  assert.is.not(digestOf(got), layer().digest);
  const differing = [...got].map((x, i) => (x === want[i] ? -1 : i)).filter((i) => i >= 0);
  assert.equal(differing, [want.length >> 1]);
  assert.is(got[want.length >> 1], want[want.length >> 1]! ^ 0xff);
  proxy.fault(/\/manifests\//, { kind: 'flip' });
  const m = await get('/v2/feature/manifests/1', { headers: { Accept: image.manifest.mediaType } });
  assert.is(m.headers.get('docker-content-digest'), image.manifest.digest, 'the header still names the real digest');
  const manifest = await body(m);
  assert.equal([manifest.length, digestOf(manifest) === image.manifest.digest], [image.manifest.size, false]);
});

test('short and long: clean answers of the wrong size, Content-Length agreeing', async () => {
  const want = readBlob(image.layoutDir, layer().digest);
  proxy.fault(/\/blobs\//, { kind: 'short', by: 10 }, { times: 1 });
  const head = await get(blobPath(), { method: 'HEAD' });
  assert.is(head.headers.get('content-length'), String(want.length), 'a HEAD passes, and leaves the fault to the GET');
  const short = await get(blobPath());
  assert.equal([short.headers.get('content-length'), await body(short)], [String(want.length - 10), want.subarray(0, want.length - 10)]);
  proxy.fault(/\/blobs\//, { kind: 'long', by: 3 }, { times: 1 });
  const long = await get(blobPath());
  assert.equal([long.headers.get('content-length'), await body(long)], [String(want.length + 3), Buffer.concat([want, Buffer.from('AAA')])]);
  assert.equal(proxy.requests.map((r) => r.fault), [null, 'short', 'long']);
});

test('truncate: the full Content-Length, N bytes, then the connection closed', async () => {
  proxy.fault(/\/blobs\//, { kind: 'truncate', after: 100 });
  const raw = await rawGet(blobPath());
  assert.match(raw.head, /^HTTP\/1\.1 200 /);
  assert.match(raw.head, new RegExp(`content-length: ${layer().size}\\r\\n`, 'i'));
  assert.is(raw.bodyBytes, 100);
  await rejects(get(blobPath()).then(body), /terminated|error reading a body|other side closed/);
});

test('status 401, 404, 500: registry-style JSON errors, 401 with a Basic challenge; `times` limits a fault', async () => {
  const cases: [number, string, string | null][] = [
    [401, 'UNAUTHORIZED', 'Basic realm="minipod-test"'],
    [404, 'BLOB_UNKNOWN', null],
    [500, 'UNKNOWN', null],
  ];
  for (const [status, code, challenge] of cases) {
    proxy.clearFaults();
    proxy.fault(/\/blobs\//, { kind: 'status', status }, { times: 1 });
    const res = await get(blobPath());
    assert.equal([res.status, res.headers.get('content-type'), res.headers.get('www-authenticate')], [status, 'application/json; charset=utf-8', challenge]);
    assert.is(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, code);
    assert.is((await get(blobPath())).status, 200, `the ${status} was for one request only`);
  }
  proxy.fault(/\/manifests\//, { kind: 'status', status: 404 });
  const m = await get('/v2/feature/manifests/1');
  assert.equal([m.status, ((await m.json()) as { errors: { code: string }[] }).errors[0]!.code], [404, 'MANIFEST_UNKNOWN']);
  proxy.fault(/\/blobs\//, { kind: 'status', status: 503, code: 'UNAVAILABLE', message: 'down for maintenance' }, { method: 'HEAD' });
  assert.is((await get(blobPath())).status, 200, 'a HEAD-only fault leaves a GET alone');
  assert.is((await get(blobPath(), { method: 'HEAD' })).status, 503);
});

test('redirect: a 307 to 127.0.0.2, which serves the blob and saw no Authorization header', async () => {
  proxy.fault(/\/blobs\//, { kind: 'redirect' });
  const manual = await get(blobPath(), { redirect: 'manual' });
  assert.is(manual.status, 307);
  const location = new URL(manual.headers.get('location')!);
  assert.is(location.hostname, '127.0.0.2');
  const followed = await get(blobPath(), { headers: { Authorization: 'Bearer secret-registry-token' } });
  assert.equal([followed.status, followed.redirected, digestOf(await body(followed))], [200, true, layer().digest]);
  assert.is(proxy.mirrorRequests.length, 1);
  assert.is(proxy.mirrorRequests[0]!.authorization, undefined, 'fetch must not send the registry\'s credentials to another host');
  assert.match(proxy.mirrorRequests[0]!.path, /^\/blobs\/[0-9a-f]{16}$/);
});

test('stall: the headers, then nothing until the client gives up', async () => {
  proxy.fault(/\/blobs\//, { kind: 'stall' });
  const ac = new AbortController();
  const res = await fetch(`${proxy.url}${blobPath()}`, { signal: ac.signal });
  assert.equal([res.status, res.headers.get('content-length')], [200, String(layer().size)]);
  const t0 = performance.now();
  const timer = setTimeout(() => ac.abort(), 300);
  await rejects(res.arrayBuffer(), /abort/i);
  clearTimeout(timer);
  assert.ok(performance.now() - t0 >= 250, 'no body came before the abort');
});

test('slow: the body at the given rate, whole', async () => {
  const size = layer().size;
  proxy.fault(/\/blobs\//, { kind: 'slow', bytesPerSecond: size * 4 });
  const t0 = performance.now();
  const got = await body(await get(blobPath()));
  const ms = performance.now() - t0;
  assert.is(digestOf(got), layer().digest);
  // 20 pieces a second, 1/20 of the body each at 4x: ~5 pieces, ~250 ms.
  assert.ok(ms >= 180 && ms < 2000, `took ${Math.round(ms)} ms`);
});

test('bearer gate: a challenge naming realm, service and scope; anonymous tokens for public repositories, Basic for private ones', async () => {
  const gated = await startFaultProxy({ upstream: registry.url, bearer: { private: { repos: ['team/private'], user: 'bob', password: 'pw' } } });
  try {
    // distribution answers an OCI manifest only to a client that accepts it
    const accept = { Accept: image.manifest.mediaType };
    const at = (path: string, token?: string) => fetch(`${gated.url}${path}`, { headers: token ? { ...accept, Authorization: `Bearer ${token}` } : accept });
    const token = async (scope: string, basic?: string) => {
      const res = await fetch(`${gated.url}/token?service=minipod-test&scope=${encodeURIComponent(scope)}`, { headers: basic ? { Authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {} });
      return { status: res.status, token: ((await res.json()) as { token?: string }).token };
    };
    const realm = `Bearer realm="${gated.url}/token",service="minipod-test"`;
    assert.is((await at('/v2/')).headers.get('www-authenticate'), realm);
    const challenge = await at('/v2/feature/manifests/1');
    assert.equal([challenge.status, challenge.headers.get('www-authenticate')], [401, `${realm},scope="repository:feature:pull"`]);

    const pub = await token('repository:feature:pull');
    assert.is(pub.status, 200);
    assert.is((await at('/v2/feature/manifests/1', pub.token)).status, 200);
    assert.is((await at('/v2/', pub.token)).status, 200);
    const denied = await at('/v2/team/private/manifests/1', pub.token);
    assert.equal([denied.status, denied.headers.get('www-authenticate')], [401, `${realm},scope="repository:team/private:pull",error="insufficient_scope"`]);

    const anonymousPrivate = await token('repository:team/private:pull');
    assert.is((await at('/v2/team/private/manifests/1', anonymousPrivate.token)).status, 401);
    assert.is((await token('repository:team/private:pull', 'bob:wrong')).status, 401);
    const priv = await token('repository:team/private:pull', 'bob:pw');
    assert.is((await at('/v2/team/private/manifests/1', priv.token)).status, 200);
    assert.is((await at('/v2/feature/manifests/1', 'made-up')).headers.get('www-authenticate'), `${realm},scope="repository:feature:pull",error="invalid_token"`);
    assert.equal(gated.tokenRequests.map((r) => [r.user, r.granted, r.status]), [
      [null, ['feature'], 200],
      [null, [], 200],
      ['bob', [], 401],
      ['bob', ['team/private'], 200],
    ]);
    const wrongService = await fetch(`${gated.url}/token?service=other&scope=repository:feature:pull`);
    assert.is(wrongService.status, 400);
  } finally {
    await gated.stop();
  }
});

test('stop() ends stalled connections and closes both ports', async () => {
  const own = await startFaultProxy({ upstream: registry.url });
  own.fault(/\/blobs\//, { kind: 'stall' });
  own.fault(/\/manifests\//, { kind: 'redirect' });
  const mirrorUrl = new URL((await fetch(`${own.url}/v2/feature/manifests/1`, { redirect: 'manual', headers: { Accept: image.manifest.mediaType } })).headers.get('location')!);
  const stalled = await fetch(`${own.url}${blobPath()}`);
  // Listened to at once: the rejection comes while stop() runs.
  const reading = rejects(stalled.arrayBuffer(), /terminated|error reading a body|other side closed/);
  await own.stop();
  await reading;
  await rejects(fetch(`${own.url}/v2/`), /fetch failed|connection refused|error sending request/i);
  await rejects(fetch(mirrorUrl), /fetch failed|connection refused|error sending request/i);
});

test.run();
