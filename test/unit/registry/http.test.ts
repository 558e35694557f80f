// The transport's decisions (which hosts may be plain HTTP or unverified),
// and TLS against a self-signed registry on 127.0.0.1: skipped verification
// where the policy says, enforced where asked for.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseReference } from '../../../lib/image/reference.ts';
import { RegistryClient } from '../../../lib/registry/client.ts';
import { Transport, describeNetworkError, endpointsFor, httpsAgent, isLoopbackHost, send } from '../../../lib/registry/http.ts';
import { rejects } from '../../helpers/assert.ts';
import { FakeRegistry, addImage } from './fake-registry.ts';

const LOOPBACK: [string, boolean][] = [
  ['localhost', true],
  ['localhost:5000', true],
  ['127.0.0.1', true],
  ['127.0.0.1:5000', true],
  ['127.255.3.4:443', true],
  ['[::1]', true],
  ['[::1]:5000', true],
  ['128.0.0.1', false],
  ['127.0.0.256', false],
  ['127.0.0', false],
  ['127.example.com', false],
  ['localhost.example.com', false],
  ['[::2]:5000', false],
  ['registry-1.docker.io', false],
];
for (const [host, loopback] of LOOPBACK) {
  test(`isLoopbackHost(${host}) is ${loopback}`, () => {
    assert.is(isLoopbackHost(host), loopback);
  });
}

const VERIFIED = [{ scheme: 'https', verify: true }];
const INSECURE = [
  { scheme: 'https', verify: false },
  { scheme: 'http', verify: false },
];
const ENDPOINTS: [string, boolean, typeof VERIFIED][] = [
  ['ghcr.io', true, VERIFIED],
  ['registry.example.com:5000', true, VERIFIED],
  ['ghcr.io', false, INSECURE],
  ['127.0.0.1:5000', true, INSECURE],
  ['localhost:5000', true, INSECURE],
  ['[::1]:5000', true, INSECURE],
];
for (const [host, tlsVerify, endpoints] of ENDPOINTS) {
  test(`endpointsFor(${host}, tlsVerify ${tlsVerify}): ${endpoints.map((e) => `${e.scheme}${e.verify ? ' verified' : ''}`).join(' then ')}`, () => {
    assert.equal(endpointsFor(host, tlsVerify), endpoints);
  });
}

const timeouts = { timeoutMs: 5000, stallTimeoutMs: 5000 };

test('plain HTTP to a host off loopback is refused before any connection', async () => {
  const transport = new Transport({ tlsVerify: true, env: {}, ...timeouts });
  await rejects(
    transport.get(new URL('http://registry.example.com/v2/'), {}),
    /^plain HTTP to registry\.example\.com refused: only loopback registries may be plain HTTP, unless --tls-verify=false$/,
  );
  transport.close();
});

const tmp = mkdtempSync(join(tmpdir(), 'minipod-tls-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const openssl = spawnSync(
  'openssl',
  ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem')],
  { stdio: 'ignore' },
);
if (openssl.error || openssl.status !== 0) {
  console.log('  skipping the TLS tests: they make a self-signed certificate with the openssl command, which is not there');
  test.skip('a self-signed loopback registry over HTTPS, unverified');
  test.skip('verification on: a self-signed certificate is refused, with the flag that allows it; trusted when given as the CA');
} else {
  const cert = readFileSync(join(tmp, 'cert.pem'), 'utf8');
  const registry = await FakeRegistry.start('127.0.0.1', { key: readFileSync(join(tmp, 'key.pem'), 'utf8'), cert });
  test.after(() => registry.close());

  test('a self-signed loopback registry over HTTPS, unverified', async () => {
    const image = addImage(registry, 'app', ['1'], { layers: ['over tls'] });
    const c = new RegistryClient(parseReference(`${registry.host}/app:1`), { platform: { os: 'linux', architecture: 'amd64' }, env: {} });
    try {
      const resolved = await c.resolve();
      assert.is(resolved.manifest.digest, image.manifest.digest);
      // The server speaks only TLS: every request it saw came over HTTPS.
      assert.equal(registry.requests.map((r) => r.url), ['/v2/', '/v2/app/manifests/1', `/v2/app/blobs/${image.config.digest}`]);
    } finally {
      c.close();
    }
  });

  test('verification on: a self-signed certificate is refused, with the flag that allows it; trusted when given as the CA', async () => {
    const url = new URL(`https://${registry.host}/v2/`);
    const strict = httpsAgent({ verify: true });
    const err = await send(url, {}, timeouts, strict).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.is(describeNetworkError(err), 'TLS: self-signed certificate (a registry without a valid certificate needs --tls-verify=false)');
    const trusting = httpsAgent({ verify: true, ca: cert });
    const res = await send(url, {}, timeouts, trusting);
    assert.is(res.statusText, '200 OK');
    res.discard();
    strict.destroy();
    trusting.destroy();
  });
}

test.run();
