// Credentials from podman's and docker's files, as they read them.
import { Buffer } from 'node:buffer';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { authFiles, findCredentials, normalizeKey } from '../../../lib/registry/credentials.ts';
import { minipodError } from '../../helpers/assert.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-credentials-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });
let n = 0;
function file(doc: unknown): string {
  const path = join(tmp, `auth-${++n}.json`);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

test('the files, in order: $REGISTRY_AUTH_FILE, podman\'s, then docker\'s ($DOCKER_CONFIG over ~/.docker)', () => {
  assert.equal(authFiles({ REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/0', DOCKER_CONFIG: '/d', HOME: '/root' }), [
    '/a.json',
    '/run/user/0/containers/auth.json',
    '/d/config.json',
  ]);
  assert.equal(authFiles({ HOME: '/root' }), ['/root/.docker/config.json']);
  assert.equal(authFiles({}), []);
});

const KEYS: [string, string][] = [
  ['ghcr.io', 'ghcr.io'],
  ['127.0.0.1:5000', '127.0.0.1:5000'],
  ['https://index.docker.io/v1/', 'docker.io'],
  ['index.docker.io', 'docker.io'],
  ['registry-1.docker.io', 'docker.io'],
  ['https://registry.example.com:5000/v2/', 'registry.example.com:5000'],
  ['http://registry.example.com', 'registry.example.com'],
  ['quay.io/org/repo', 'quay.io/org/repo'],
  ['quay.io/org/', 'quay.io/org'],
];
for (const [key, normal] of KEYS) {
  test(`an auths key ${key} names ${normal}`, () => {
    assert.is(normalizeKey(key), normal);
  });
}

test('Docker Hub\'s credentials under docker\'s legacy key, for docker.io/library/redis', () => {
  const path = file({ auths: { 'https://index.docker.io/v1/': auth('hub', 'pw') } });
  assert.equal(findCredentials('docker.io', 'library/redis', { REGISTRY_AUTH_FILE: path }).credentials, {
    username: 'hub',
    password: 'pw',
    source: `${path} (https://index.docker.io/v1/)`,
  });
});

test('the most specific key in a file wins: repository, then namespace, then registry', () => {
  const path = file({ auths: { 'quay.io': auth('registry', '1'), 'quay.io/org': auth('namespace', '2'), 'quay.io/org/app': auth('repository', '3') } });
  const user = (repo: string) => findCredentials('quay.io', repo, { REGISTRY_AUTH_FILE: path }).credentials?.username;
  assert.is(user('org/app'), 'repository');
  assert.is(user('org/other'), 'namespace');
  assert.is(user('someone/app'), 'registry');
  assert.is(findCredentials('ghcr.io', 'org/app', { REGISTRY_AUTH_FILE: path }).credentials, undefined);
});

test('the first file with an entry wins, even over a more specific key in a later one', () => {
  const first = file({ auths: { 'quay.io': auth('first', '1') } });
  const dockerDir = join(tmp, 'docker');
  mkdirSync(dockerDir, { recursive: true });
  writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { 'quay.io/org/app': auth('later', '2') } }));
  assert.is(findCredentials('quay.io', 'org/app', { REGISTRY_AUTH_FILE: first, DOCKER_CONFIG: dockerDir }).credentials?.username, 'first');
  assert.is(findCredentials('quay.io', 'org/app', { REGISTRY_AUTH_FILE: join(tmp, 'absent.json'), DOCKER_CONFIG: dockerDir }).credentials?.username, 'later');
});

test('username and password fields; a password with a colon; identitytoken alone is no credential', () => {
  const path = file({
    auths: {
      'a.example': { username: 'u', password: 'p' },
      'b.example': auth('user', 'pa:ss'),
      'c.example': { identitytoken: 'refresh-token' },
    },
  });
  const env = { REGISTRY_AUTH_FILE: path };
  assert.equal(findCredentials('a.example', 'x', env).credentials, { username: 'u', password: 'p', source: `${path} (a.example)` });
  assert.equal(findCredentials('b.example', 'x', env).credentials?.password, 'pa:ss');
  assert.equal(findCredentials('c.example', 'x', env), { files: [path] });
});

test('a credential helper configured for the registry is named, not run', () => {
  const store = file({ auths: { 'ghcr.io': {} }, credsStore: 'desktop' });
  assert.equal(findCredentials('ghcr.io', 'org/app', { REGISTRY_AUTH_FILE: store }), { files: [store], helper: `${store} names credential helper "desktop"` });
  const helpers = file({ credHelpers: { 'https://ghcr.io': 'gh', 'quay.io': 'other' } });
  assert.is(findCredentials('ghcr.io', 'org/app', { REGISTRY_AUTH_FILE: helpers }).helper, `${helpers} names credential helper "gh"`);
});

test('a file that is not JSON, or an auth that is not user:password, is an error naming the file', () => {
  const broken = file('{"auths": ');
  assert.match(minipodError(() => findCredentials('ghcr.io', 'x', { REGISTRY_AUTH_FILE: broken })), new RegExp(`^read credentials ${broken}: `));
  const notObject = file('[]');
  assert.is(minipodError(() => findCredentials('ghcr.io', 'x', { REGISTRY_AUTH_FILE: notObject })), `read credentials ${notObject}: not a JSON object`);
  const noColon = file({ auths: { 'ghcr.io': { auth: Buffer.from('justauser').toString('base64') } } });
  assert.is(
    minipodError(() => findCredentials('ghcr.io', 'x', { REGISTRY_AUTH_FILE: noColon })),
    `read credentials ${noColon} (ghcr.io): "auth" is not base64 of user:password`,
  );
});

test.run();
