// WWW-Authenticate challenges and the token request of Docker's token protocol.
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basicAuthorization, parseChallenges, parseTokenResponse, tokenURL } from '../../../lib/registry/auth.ts';
import { minipodError } from '../../helpers/assert.ts';

const CHALLENGES: [string, ReturnType<typeof parseChallenges>][] = [
  [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/redis:pull' } }],
  ],
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  // Commas inside quotes, escapes, spaces around '=' and case of names.
  [
    'BEARER Realm = "https://a.example/token?x=1,2" , Service="svc \\"quoted\\"",scope="repository:a:pull,push"',
    [{ scheme: 'bearer', params: { realm: 'https://a.example/token?x=1,2', service: 'svc "quoted"', scope: 'repository:a:pull,push' } }],
  ],
  // Two challenges in one value (as several headers are joined).
  [
    'Basic realm="r1", Bearer realm="https://t.example/token",service="s"',
    [
      { scheme: 'basic', params: { realm: 'r1' } },
      { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 's' } },
    ],
  ],
  // Unquoted values, as some servers send them.
  ['Bearer realm=https://t.example/token,service=s', [{ scheme: 'bearer', params: { realm: 'https://t.example/token', service: 's' } }]],
  ['Basic', [{ scheme: 'basic', params: {} }]],
  ['', []],
];
for (const [header, challenges] of CHALLENGES) {
  test(`parseChallenges(${JSON.stringify(header)})`, () => {
    assert.equal(parseChallenges(header), challenges);
  });
}

test('tokenURL: the realm with service and our scope', () => {
  const url = tokenURL({ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token?a=b', service: 'registry.docker.io' } }, 'repository:library/redis:pull');
  assert.is(url.href, 'https://auth.docker.io/token?a=b&service=registry.docker.io&scope=repository%3Alibrary%2Fredis%3Apull');
  assert.is(minipodError(() => tokenURL({ scheme: 'bearer', params: {} }, 's')), 'the Bearer challenge names no realm');
  assert.is(minipodError(() => tokenURL({ scheme: 'bearer', params: { realm: 'not a url' } }, 's')), 'the Bearer challenge\'s realm "not a url" is not a URL');
  assert.is(minipodError(() => tokenURL({ scheme: 'bearer', params: { realm: 'file:///etc/passwd' } }, 's')), 'the Bearer challenge\'s realm "file:///etc/passwd" is not an http(s) URL');
});

test('parseTokenResponse: token, else access_token', () => {
  const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));
  assert.is(parseTokenResponse(json({ token: 't1', access_token: 't2', expires_in: 300 })), 't1');
  assert.is(parseTokenResponse(json({ access_token: 't2' })), 't2');
  assert.is(minipodError(() => parseTokenResponse(json({ expires_in: 300 }))), 'the token server\'s answer has no "token" nor "access_token"');
  assert.match(minipodError(() => parseTokenResponse(Buffer.from('<html>'))), /^the token server's answer is not JSON: /);
});

test('basicAuthorization', () => {
  assert.is(basicAuthorization({ username: 'a', password: 'b:c' }), `Basic ${Buffer.from('a:b:c').toString('base64')}`);
});

test.run();
