// The registry client against an in-process registry on 127.0.0.1 (and a
// second on 127.0.0.2 standing for a CDN), under both runtimes.
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Platform, parsePlatform } from '../../../lib/image/platform.ts';
import { parseReference } from '../../../lib/image/reference.ts';
import { type RegistryClientOptions, RegistryClient, RegistryError } from '../../../lib/registry/client.ts';
import { rejects } from '../../helpers/assert.ts';
import { FakeRegistry, addImage, basic, digestOf } from './fake-registry.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-registry-'));
const registry = await FakeRegistry.start('127.0.0.1');
const cdn = await FakeRegistry.start('127.0.0.2');
const clients: RegistryClient[] = [];
const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

test.before.each(() => {
  registry.reset();
  cdn.reset();
});
test.after.each(() => {
  for (const c of clients.splice(0)) c.close();
});
test.after(async () => {
  await Promise.all([registry.close(), cdn.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

function client(name: string, opts: Partial<RegistryClientOptions> = {}): RegistryClient {
  const c = new RegistryClient(parseReference(`${registry.host}/${name}`), { platform: AMD64, env: {}, ...opts });
  clients.push(c);
  return c;
}

async function read(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, RegistryError);
    return err as RegistryError;
  }
  throw new assert.Assertion({ message: 'expected a RegistryError', generated: true, operator: 'rejects', expects: RegistryError, actual: undefined });
}

function authFile(name: string, auths: Record<string, unknown>): string {
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify({ auths }));
  return file;
}

test('a tag of an OCI manifest: manifest, config and layers, each blob streamed whole', async () => {
  const image = addImage(registry, 'app', ['1.0'], { layers: ['layer one', 'layer two'] });
  const c = client('app:1.0');
  const resolved = await c.resolve();
  assert.equal(resolved.manifest, { digest: image.manifest.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: new Uint8Array(image.manifest.bytes) });
  assert.is(resolved.index, undefined);
  assert.equal(resolved.config, image.config);
  assert.equal(resolved.layers, image.layers);
  assert.equal(resolved.platform, AMD64);
  assert.is(Buffer.from(resolved.configBytes).toString(), Buffer.from(registry.blobs.get(image.config.digest)!).toString());
  const blob = await c.blob(resolved.layers[1]!);
  assert.is(blob.length, 'layer two'.length);
  assert.is(blob.offset, 0);
  assert.is(await read(blob.body), 'layer two');
});

test('a digest pins the manifest; a Docker schema 2 manifest reads the same', async () => {
  const image = addImage(registry, 'org/app', ['1.0'], { layers: ['x'], docker: true });
  const resolved = await client(`org/app@${image.manifest.digest}`).resolve();
  assert.is(resolved.manifest.digest, image.manifest.digest);
  assert.is(resolved.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(resolved.layers, image.layers);
  assert.is(resolved.reference.digest, image.manifest.digest);
});

function multiPlatform(mediaType: string) {
  const amd = addImage(registry, 'multi', [], { layers: ['amd64 layer'] });
  const arm = addImage(registry, 'multi', [], { layers: ['arm64 layer'], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const attestation = registry.addManifest('multi', [], 'application/vnd.oci.image.manifest.v1+json', { schemaVersion: 2 });
  const entry = (m: { digest: string; size: number; mediaType: string }, platform: Platform, annotations?: Record<string, string>) => ({
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.size,
    platform,
    ...(annotations ? { annotations } : {}),
  });
  const index = registry.addManifest('multi', ['1'], mediaType, {
    schemaVersion: 2,
    mediaType,
    manifests: [
      // buildx lists its attestations under unknown/unknown; one that names a platform is skipped too.
      entry(attestation, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      entry(attestation, AMD64, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      entry(amd.manifest, AMD64),
      entry(arm.manifest, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    ],
  });
  return { amd, arm, index };
}

for (const [kind, mediaType] of [
  ['an OCI index', 'application/vnd.oci.image.index.v1+json'],
  ['a Docker manifest list', 'application/vnd.docker.distribution.manifest.list.v2+json'],
]) {
  test(`${kind}: the entry for the platform asked for, attestations skipped`, async () => {
    const { amd, arm, index } = multiPlatform(mediaType!);
    const here = await client('multi:1').resolve();
    assert.is(here.manifest.digest, amd.manifest.digest);
    assert.equal(here.index, { digest: index.digest, mediaType, bytes: new Uint8Array(index.bytes) });
    assert.equal(here.platform, AMD64);
    const other = await client('multi:1', { platform: parsePlatform('linux/arm64') }).resolve();
    assert.is(other.manifest.digest, arm.manifest.digest);
    assert.equal(other.layers, arm.layers);
    assert.equal(other.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  });
}

test('an index without the platform: the line lists the platforms it has', async () => {
  const { index } = multiPlatform('application/vnd.oci.image.index.v1+json');
  const err = await failure(client('multi:1', { platform: parsePlatform('linux/s390x') }).resolve());
  assert.is(
    err.message,
    `pull ${registry.host}/multi:1: no image for linux/s390x in index ${index.digest} (it has linux/amd64, linux/arm64/v8; --platform chooses another)`,
  );
  assert.is(err.status, undefined);
});

test("a single manifest whose config is for another platform is refused", async () => {
  addImage(registry, 'armonly', ['1'], { layers: ['x'], platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
  const err = await failure(client('armonly:1').resolve());
  assert.is(err.message, `pull ${registry.host}/armonly:1: the image is for linux/arm/v7, which does not run as linux/amd64 (--platform chooses another)`);
  const ok = await client('armonly:1', { platform: parsePlatform('linux/arm/v7') }).resolve();
  assert.equal(ok.platform, { os: 'linux', architecture: 'arm', variant: 'v7' });
});

test('a manifest whose content is not the digest asked for is refused', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  const other = addImage(registry, 'app', ['2'], { layers: ['y'] });
  registry.manifests.set(`app@${image.manifest.digest}`, registry.manifests.get(`app@${other.manifest.digest}`)!);
  const err = await failure(client(`app@${image.manifest.digest}`).resolve());
  assert.is(err.message, `pull ${registry.host}/app@${image.manifest.digest}: manifest ${image.manifest.digest}: the registry sent content of digest ${other.manifest.digest}`);
});

test('a Docker-Content-Digest that is not the content\'s is refused', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  const lie = digestOf(Buffer.from('something else'));
  registry.manifests.set('app@1', { ...registry.manifests.get('app@1')!, digest: lie });
  const err = await failure(client('app:1').resolve());
  assert.is(err.message, `pull ${registry.host}/app:1: manifest 1: Docker-Content-Digest says ${lie}, the content is ${image.manifest.digest}`);
});

test('an index entry whose manifest has another size is refused', async () => {
  const amd = addImage(registry, 'multi', [], { layers: ['x'] });
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  registry.addManifest('multi', ['1'], mediaType, {
    schemaVersion: 2,
    manifests: [{ mediaType: amd.manifest.mediaType, digest: amd.manifest.digest, size: amd.manifest.size + 1, platform: AMD64 }],
  });
  const err = await failure(client('multi:1').resolve());
  assert.is(err.message, `pull ${registry.host}/multi:1: manifest ${amd.manifest.digest}: ${amd.manifest.size} bytes, the index says ${amd.manifest.size + 1}`);
});

test('a config whose content is not its digest is refused', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  const bytes = registry.blobs.get(image.config.digest)!;
  registry.blobs.set(image.config.digest, Buffer.from(Buffer.from(bytes).toString().replace('amd64', 'arm64')));
  const err = await failure(client('app:1').resolve());
  assert.match(err.message, new RegExp(`^pull ${registry.host}/app:1: config ${image.config.digest}: the registry sent content of digest sha256:[0-9a-f]{64}$`));
});

test('a schema 1 manifest is refused with what to do', async () => {
  registry.addManifest('old', ['1'], 'application/vnd.docker.distribution.manifest.v1+prettyjws', { schemaVersion: 1, name: 'old', tag: '1' });
  const err = await failure(client('old:1').resolve());
  assert.is(
    err.message,
    `pull ${registry.host}/old:1: manifest 1: a Docker schema 1 manifest, which minipod does not read (deprecated since 2017): push the image again with a current docker, podman or skopeo`,
  );
});

test('Bearer, anonymous: one token, asked for once, serves the whole pull', async () => {
  registry.auth = { kind: 'bearer' };
  const image = addImage(registry, 'app', ['1'], { layers: ['a', 'b', 'c'] });
  const c = client('app:1');
  const resolved = await c.resolve();
  const bodies = await Promise.all(resolved.layers.map(async (l) => read((await c.blob(l)).body)));
  assert.equal(bodies, ['a', 'b', 'c']);
  assert.is(registry.tokensIssued, 1);
  const tokenRequest = registry.requests.find((r) => r.url.startsWith('/token'))!;
  assert.is(tokenRequest.url, '/token?service=fake%2C+registry&scope=repository%3Aapp%3Apull');
  assert.is(tokenRequest.authorization, undefined);
  const blobRequests = registry.requests.filter((r) => r.url.includes('/blobs/'));
  assert.equal(blobRequests.map((r) => r.authorization), [image.config, ...image.layers].map(() => 'Bearer tok-1'));
});

test('Bearer with the Basic credentials of $REGISTRY_AUTH_FILE', async () => {
  registry.auth = { kind: 'bearer', user: 'alice', password: 's3cret:x' };
  addImage(registry, 'private', ['1'], { layers: ['a'] });
  const file = authFile('auth.json', { [registry.host]: { auth: Buffer.from('alice:s3cret:x').toString('base64') } });
  await client('private:1', { env: { REGISTRY_AUTH_FILE: file } }).resolve();
  const tokenRequest = registry.requests.find((r) => r.url.startsWith('/token'))!;
  assert.is(tokenRequest.authorization, basic('alice', 's3cret:x'));
});

test('Bearer with wrong credentials: the token server\'s refusal, and whose credentials they were', async () => {
  registry.auth = { kind: 'bearer', user: 'alice', password: 'right' };
  const file = authFile('wrong.json', { [`https://${registry.host}/v1/`]: { username: 'alice', password: 'wrong' } });
  const err = await failure(client('private:1', { env: { REGISTRY_AUTH_FILE: file } }).resolve());
  assert.is(
    err.message,
    `pull ${registry.host}/private:1: GET http://${registry.host}/token?service=fake%2C+registry&scope=repository%3Aprivate%3Apull: 401 Unauthorized: ` +
      `incorrect username or password (with the credentials of ${file} (https://${registry.host}/v1/))`,
  );
  assert.is(err.status, 401);
});

test('a token the registry stops taking is asked for again', async () => {
  registry.auth = { kind: 'bearer' };
  addImage(registry, 'app', ['1'], { layers: ['a'] });
  const c = client('app:1');
  const resolved = await c.resolve();
  registry.tokens.clear();
  assert.is(await read((await c.blob(resolved.layers[0]!)).body), 'a');
  assert.is(registry.tokensIssued, 2);
});

test('Basic, with the credentials of $DOCKER_CONFIG/config.json', async () => {
  registry.auth = { kind: 'basic', user: 'bob', password: 'pw' };
  addImage(registry, 'app', ['1'], { layers: ['a'] });
  const dir = mkdtempSync(join(tmp, 'docker-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('bob:pw').toString('base64') } } }));
  await client('app:1', { env: { DOCKER_CONFIG: dir } }).resolve();
  const manifestRequests = registry.requests.filter((r) => r.url.includes('/manifests/'));
  assert.equal(manifestRequests.map((r) => r.authorization), [undefined, basic('bob', 'pw')]);
});

test('401 without credentials: the registry\'s errors, and where credentials were looked for', async () => {
  registry.auth = { kind: 'basic', user: 'bob', password: 'pw' };
  const home = join(tmp, 'home');
  const err = await failure(client('private:1', { env: { HOME: home, XDG_RUNTIME_DIR: join(tmp, 'run') } }).resolve());
  assert.is(
    err.message,
    `pull ${registry.host}/private:1: GET http://${registry.host}/v2/private/manifests/1: 401 Unauthorized: UNAUTHORIZED: authentication required ` +
      `(no credentials for ${registry.host} in ${join(tmp, 'run', 'containers', 'auth.json')}, ${join(home, '.docker', 'config.json')})`,
  );
  assert.is(err.status, 401);
});

test('401 where docker would have asked a credential helper says so', async () => {
  registry.auth = { kind: 'bearer', user: 'bob', password: 'pw' };
  const dir = mkdtempSync(join(tmp, 'docker-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: {} }, credsStore: 'desktop' }));
  const err = await failure(client('private:1', { env: { DOCKER_CONFIG: dir } }).resolve());
  assert.match(err.message, `(no credentials for ${registry.host} in ${dir}/config.json; ${dir}/config.json names credential helper "desktop", and minipod runs no credential helper)`);
});

test('an auth file that is not JSON fails the pull that needs it, naming the file', async () => {
  registry.auth = { kind: 'bearer' };
  addImage(registry, 'app', ['1'], { layers: ['a'] });
  const broken = join(tmp, 'broken.json');
  writeFileSync(broken, '{"auths": {');
  const err = await failure(client('app:1', { env: { REGISTRY_AUTH_FILE: broken } }).resolve());
  assert.match(err.message, new RegExp(`^pull ${registry.host}/app:1: read credentials ${broken}: `));
});

test('404: manifest unknown, with the status on the error', async () => {
  const err = await failure(client('nothing:1').resolve());
  assert.is(err.message, `pull ${registry.host}/nothing:1: GET http://${registry.host}/v2/nothing/manifests/1: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`);
  assert.is(err.status, 404);
});

test('500: the status line, and a body that is not the API\'s left out', async () => {
  registry.intercept = (req, res) => {
    if (!req.url?.includes('/manifests/')) return false;
    res.writeHead(500, { 'Content-Type': 'text/html' });
    res.end('<html>oops</html>');
    return true;
  };
  const err = await failure(client('app:1').resolve());
  assert.is(err.message, `pull ${registry.host}/app:1: GET http://${registry.host}/v2/app/manifests/1: 500 Internal Server Error`);
  assert.is(err.status, 500);
});

test('a blob redirected to another host gets there without the registry\'s Authorization', async () => {
  registry.auth = { kind: 'bearer' };
  const image = addImage(registry, 'app', ['1'], { layers: ['from the cdn'] });
  cdn.blobs = registry.blobs;
  registry.redirectBlob = (digest) => `http://${cdn.host}/v2/cdn/blobs/${digest}?signature=abc`;
  const c = client('app:1');
  const resolved = await c.resolve();
  assert.is(await read((await c.blob(resolved.layers[0]!)).body), 'from the cdn');
  assert.equal(cdn.requests.map((r) => [r.url, r.authorization]), [
    [`/v2/cdn/blobs/${image.config.digest}?signature=abc`, undefined],
    [`/v2/cdn/blobs/${image.layers[0]!.digest}?signature=abc`, undefined],
  ]);
  assert.equal(registry.requests.filter((r) => r.url.includes('/blobs/')).map((r) => r.authorization), ['Bearer tok-1', 'Bearer tok-1']);
});

test('a redirect loop ends after 5 redirects', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  registry.redirectBlob = (digest) => `/v2/app/blobs/${digest}`;
  const err = await failure(client('app:1').resolve());
  assert.is(
    err.message,
    `pull ${registry.host}/app:1: GET http://${registry.host}/v2/app/blobs/${image.config.digest}: more than 5 redirects (the last to /v2/app/blobs/${image.config.digest})`,
  );
  assert.is(registry.requests.filter((r) => r.url.includes('/blobs/')).length, 6);
});

test('a redirect to plain HTTP off loopback is refused without connecting', async () => {
  addImage(registry, 'app', ['1'], { layers: ['x'] });
  registry.redirectBlob = (digest) => `http://registry.example.com/blobs/${digest}`;
  const err = await failure(client('app:1').resolve());
  assert.match(err.message, /: GET http:\/\/registry\.example\.com\/blobs\/sha256:[0-9a-f]{64}: plain HTTP to registry\.example\.com refused: only loopback registries may be plain HTTP, unless --tls-verify=false$/);
});

test('a Range from an offset, and a registry that ignores it', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['0123456789'] });
  const c = client('app:1');
  const partial = await c.blob(image.layers[0]!, { offset: 4 });
  assert.equal([partial.offset, partial.length, await read(partial.body)], [4, 6, '456789']);
  assert.is(registry.requests.at(-1)!.range, 'bytes=4-');
  registry.intercept = (req, res) => {
    if (!req.url?.includes('/blobs/')) return false;
    res.writeHead(200, { 'Content-Length': 10 });
    res.end('0123456789');
    return true;
  };
  const whole = await c.blob(image.layers[0]!, { offset: 4 });
  assert.equal([whole.offset, whole.length, await read(whole.body)], [0, 10, '0123456789']);
});

test('no response within the timeout', async () => {
  registry.intercept = (req) => req.url !== '/v2/';
  const err = await failure(client('app:1', { fetchTimeoutMs: 200 }).resolve());
  assert.is(err.message, `pull ${registry.host}/app:1: GET http://${registry.host}/v2/app/manifests/1: no response in 0.2 s`);
});

test('a body that stalls fails after the stall timeout; one that is cut short says so', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  let cut = false;
  registry.intercept = (req, res) => {
    if (!req.url?.includes(image.layers[0]!.digest)) return false;
    res.writeHead(200, { 'Content-Length': 100 });
    res.write('ten bytes.');
    if (cut) setTimeout(() => res.socket?.destroy(), 50);
    return true;
  };
  const c = client('app:1', { stallTimeoutMs: 300 });
  const url = `http://${registry.host}/v2/app/blobs/${image.layers[0]!.digest}`;
  await rejects(read((await c.blob(image.layers[0]!)).body), new RegExp(`^pull ${registry.host}/app:1: GET ${url}: no data for 0.3 s$`));
  cut = true;
  await rejects(read((await c.blob(image.layers[0]!)).body), new RegExp(`^pull ${registry.host}/app:1: GET ${url}: connection closed before the end of the body$`));
});

test('a kept-alive connection the registry closed is not a failure: the GET is sent again, once', async () => {
  const image = addImage(registry, 'app', ['1'], { layers: ['x'] });
  const used = new WeakSet<object>();
  let drop: (reused: boolean) => boolean = (reused) => reused;
  let dropped = 0;
  registry.intercept = (req) => {
    const reused = used.has(req.socket);
    used.add(req.socket);
    if (!req.url?.includes(image.layers[0]!.digest) || !drop(reused)) return false;
    dropped++;
    req.socket.destroy();
    return true;
  };
  const c = client('app:1');
  const resolved = await c.resolve();
  assert.is(await read((await c.blob(resolved.layers[0]!)).body), 'x');
  assert.is(dropped, 1);
  // Closed on a fresh connection too: that is the registry failing, said once.
  drop = () => true;
  const err = await failure(c.blob(resolved.layers[0]!));
  assert.is(err.message, `pull ${registry.host}/app:1: GET http://${registry.host}/v2/app/blobs/${image.layers[0]!.digest}: connection reset`);
  assert.is(dropped, 3);
});

test('nothing listening: both of Docker\'s endpoints for a loopback registry, named', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));
  const c = new RegistryClient(parseReference(`127.0.0.1:${port}/app`), { platform: AMD64, env: {} });
  clients.push(c);
  const err = await failure(c.resolve());
  assert.is(
    err.message,
    `pull 127.0.0.1:${port}/app:latest: GET https://127.0.0.1:${port}/v2/: connection refused; GET http://127.0.0.1:${port}/v2/: connection refused`,
  );
});

test.run();
