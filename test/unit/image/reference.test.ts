// Image references, with the cases of distribution/reference's
// reference_test.go and normalize_test.go (TestReferenceParse,
// TestParseDockerRef, TestParseRepositoryInfo, TestNormalizedSplitHostname,
// TestValidateReferenceName, TestValidateRemoteName), read as ParseDockerRef
// reads them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalName, familiarName, normalizeName, parseReference } from '../../../lib/image/reference.ts';
import { sha256 } from '../../helpers/images.ts';
import { minipodError } from '../../helpers/assert.ts';

const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const E = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
const F = `sha256:${'f'.repeat(64)}`;
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const longPath = `${'a/'.repeat(127)}a`;

// input -> canonical name (domain/path, then :tag or @digest)
const CANONICAL: [string, string][] = [
  ['redis', 'docker.io/library/redis:latest'],
  ['redis:latest', 'docker.io/library/redis:latest'],
  ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
  [`redis@${D}`, `docker.io/library/redis@${D}`],
  [`docker.io/library/redis@${D}`, `docker.io/library/redis@${D}`],
  ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp:latest'],
  ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
  [`dmcgowan/myapp@${D}`, `docker.io/dmcgowan/myapp@${D}`],
  ['dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9', 'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest'],
  ['dbcc1', 'docker.io/library/dbcc1:latest'],
  // ParseDockerRef: a tag and a digest given, the digest is what is fetched.
  [`busybox:latest@${E}`, `docker.io/library/busybox@${E}`],
  [`gcr.io/library/busybox:latest@${E}`, `gcr.io/library/busybox@${E}`],
  ['library/busybox', 'docker.io/library/busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
  ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
  ['index.docker.io/library/ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base:latest'],
  ['index.docker.io/fooo/bar', 'docker.io/fooo/bar:latest'],
  ['docker.io/library/foo/bar', 'docker.io/library/foo/bar:latest'],
  ['store/foo/bar', 'docker.io/store/foo/bar:latest'],
  [`docker.io/${HEX64}`, `docker.io/library/${HEX64}:latest`],
  ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest'],
  ['test_com', 'docker.io/library/test_com:latest'],
  ['test.com:tag', 'docker.io/library/test.com:tag'],
  ['test.com:5000', 'docker.io/library/test.com:5000'],
  ['test.com/repo:tag', 'test.com/repo:tag'],
  ['test:5000/repo', 'test:5000/repo:latest'],
  [`test:5000/repo@${F}`, `test:5000/repo@${F}`],
  [`test:5000/repo:tag@${F}`, `test:5000/repo@${F}`],
  ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase'],
  [`${longPath}:tag-puts-this-over-max`, `docker.io/${longPath}:tag-puts-this-over-max`],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag'],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com'],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
  ['foo_bar.com:8080', 'docker.io/library/foo_bar.com:8080'],
  ['foo/foo_bar.com:8080', 'docker.io/foo/foo_bar.com:8080'],
  ['192.168.1.1', 'docker.io/library/192.168.1.1:latest'],
  ['192.168.1.1:5000', 'docker.io/library/192.168.1.1:5000'],
  ['192.168.1.1/repo', '192.168.1.1/repo:latest'],
  ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000/repo:5050'],
  ['[2001:db8::1]/repo', '[2001:db8::1]/repo:latest'],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]/repo:tag'],
  [`[2001:db8::1]:5000/repo:tag@${F}`, `[2001:db8::1]:5000/repo@${F}`],
  ['[::1]:5000/repo', '[::1]:5000/repo:latest'],
  ['localhost/x', 'localhost/x:latest'],
  ['localhost:5000/x/y:1', 'localhost:5000/x/y:1'],
  // A bare "localhost" is a name, not a domain (distribution's FIXME, kept).
  ['localhost', 'docker.io/library/localhost:latest'],
  // An upper-case first component is taken for a domain (distribution's FIXME, kept).
  ['Uppercase/lowercase:tag', 'Uppercase/lowercase:tag'],
  ['docker---rules/docker', 'docker.io/docker---rules/docker:latest'],
  ['dock__er/docker', 'docker.io/dock__er/docker:latest'],
  ['d/docker', 'docker.io/d/docker:latest'],
  ['jess/t', 'docker.io/jess/t:latest'],
  ['ghcr.io/org/app:1.2', 'ghcr.io/org/app:1.2'],
  ['redis:7-alpine', 'docker.io/library/redis:7-alpine'],
];
for (const [input, canonical] of CANONICAL) {
  test(`parseReference(${JSON.stringify(input.length > 80 ? `${input.slice(0, 40)}...` : input)}) is ${canonical.length > 100 ? `${canonical.slice(0, 60)}...` : canonical}`, () => {
    assert.is(canonicalName(parseReference(input)), canonical);
  });
}

const PARTS: [string, { domain: string; path: string; tag?: string; digest?: string }][] = [
  ['redis', { domain: 'docker.io', path: 'library/redis', tag: 'latest' }],
  [`redis:7@${D}`, { domain: 'docker.io', path: 'library/redis', digest: D }],
  ['test.com/foo', { domain: 'test.com', path: 'foo', tag: 'latest' }],
  ['test_com/foo', { domain: 'docker.io', path: 'test_com/foo', tag: 'latest' }],
  ['docker/migrator', { domain: 'docker.io', path: 'docker/migrator', tag: 'latest' }],
  ['test.com:8080/foo', { domain: 'test.com:8080', path: 'foo', tag: 'latest' }],
  ['test-com:8080/foo', { domain: 'test-com:8080', path: 'foo', tag: 'latest' }],
  ['foo', { domain: 'docker.io', path: 'library/foo', tag: 'latest' }],
  ['xn--n3h.com:18080/foo', { domain: 'xn--n3h.com:18080', path: 'foo', tag: 'latest' }],
  ['docker.io/foo', { domain: 'docker.io', path: 'library/foo', tag: 'latest' }],
  ['127.0.0.1:8000/private/moonbase', { domain: '127.0.0.1:8000', path: 'private/moonbase', tag: 'latest' }],
];
for (const [input, parts] of PARTS) {
  test(`parseReference(${JSON.stringify(input)}): ${JSON.stringify(parts)}`, () => {
    assert.equal(parseReference(input), parts);
  });
}

// distribution's TestParseRepositoryInfo: every way of writing a name has the same familiar name.
const FAMILIAR: [string, string[]][] = [
  ['fooo/bar', ['docker.io/fooo/bar', 'index.docker.io/fooo/bar']],
  ['ubuntu', ['docker.io/library/ubuntu', 'library/ubuntu']],
  ['nonlibrary/ubuntu', ['docker.io/nonlibrary/ubuntu']],
  ['other/library', ['docker.io/other/library']],
  ['127.0.0.1:8000/private/moonbase', []],
  ['127.0.0.1:8000/privatebase', []],
  ['example.com/private/moonbase', []],
  ['example.com:8000/privatebasee', []],
  ['ubuntu-12.04-base', ['docker.io/library/ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base']],
  ['foo', ['docker.io/library/foo', 'docker.io/foo']],
  ['library/foo/bar', ['docker.io/library/foo/bar']],
  ['store/foo/bar', ['docker.io/store/foo/bar']],
];
for (const [familiar, others] of FAMILIAR) {
  test(`familiarName of ${[familiar, ...others].join(', ')} is ${familiar}:latest`, () => {
    for (const input of [familiar, ...others]) assert.is(familiarName(parseReference(input)), `${familiar}:latest`);
  });
}

test('familiarName keeps a digest and a registry other than Docker Hub', () => {
  assert.is(familiarName(parseReference(`busybox:latest@${E}`)), `busybox@${E}`);
  assert.is(familiarName(parseReference('ghcr.io/org/app:1.2')), 'ghcr.io/org/app:1.2');
  assert.is(familiarName(parseReference('redis:7')), 'redis:7');
});

// input -> the reason after `invalid reference format: "INPUT": `
const INVALID: [string, string][] = [
  ['', 'repository name must have at least one component'],
  [':justtag', 'repository name must have at least one component'],
  [`@${F}`, 'repository name must have at least one component'],
  [HEX64, 'cannot specify 64-byte hexadecimal strings'],
  ['repo@sha256:ffffffffffffffffffffffffffffffffff', 'invalid checksum digest length in "sha256:ffffffffffffffffffffffffffffffffff"'],
  [`validname@invaliddigest:${'f'.repeat(64)}`, 'unsupported digest algorithm "invaliddigest" (minipod stores sha256 content)'],
  [`repo@sha512:${'f'.repeat(128)}`, 'unsupported digest algorithm "sha512" (minipod stores sha256 content)'],
  [`repo@${D.toUpperCase().replace('SHA256', 'sha256')}`, `invalid checksum digest format in "${D.toUpperCase().replace('SHA256', 'sha256')}" (lower-case hex)`],
  ['repo@sha256:xyz', 'invalid digest "sha256:xyz"'],
  ['Uppercase:tag', 'repository name must be lowercase'],
  ['test:5000/Uppercase/lowercase:tag', 'repository name must be lowercase'],
  ['docker/Docker', 'repository name must be lowercase'],
  ['docker.io/docker/Docker', 'repository name must be lowercase'],
  [`${'a/'.repeat(128)}a:tag`, 'repository name must not be more than 255 characters'],
  [`${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}x/docker`, 'repository name must not be more than 255 characters'],
  ['aa/asdf$$^/aa', 'invalid repository name "aa/asdf$$^/aa"'],
  ['-docker', 'invalid repository name "-docker"'],
  ['-docker/docker', 'invalid repository name "-docker/docker"'],
  ['docker-/docker', 'invalid repository name "docker-/docker"'],
  ['-docker-/docker', 'invalid repository name "-docker-/docker"'],
  ['____/____', 'invalid repository name "____/____"'],
  ['_docker/_docker', 'invalid repository name "_docker/_docker"'],
  // A '.' makes the first component a domain, and these are not valid ones.
  ['dock..er/docker', 'invalid registry host "dock..er"'],
  ['dock_.er/docker', 'invalid registry host "dock_.er"'],
  ['dock-.er/docker', 'invalid registry host "dock-.er"'],
  ['docker/', 'invalid repository name "docker/"'],
  ['docker///docker', 'invalid repository name "docker///docker"'],
  ['docker.io/docker///docker', 'invalid repository name "docker///docker"'],
  ['-docker.io/docker/docker', 'invalid registry host "-docker.io"'],
  ['https://github.com/docker/docker', 'invalid registry host "https:"'],
  ['[fe80::1%eth0]:5000/repo', 'invalid registry host "[fe80::1%eth0]:5000"'],
  ['[2001:db8::1]', 'invalid repository name "[2001:db8:"'],
  ['[2001:db8::1]:5000', 'invalid repository name "[2001:db8::1]"'],
  ['redis:', 'invalid tag ""'],
  ['redis:-x', 'invalid tag "-x"'],
  [`redis:${'x'.repeat(129)}`, `invalid tag "${'x'.repeat(129)}"`],
];
for (const [input, reason] of INVALID) {
  test(`parseReference(${JSON.stringify(input.length > 60 ? `${input.slice(0, 30)}...` : input)}): ${reason.length > 80 ? `${reason.slice(0, 60)}...` : reason}`, () => {
    assert.is(minipodError(() => parseReference(input)), `invalid reference format: ${JSON.stringify(input)}: ${reason}`);
  });
}

const NAMES: [string, string][] = [
  ['busybox', 'docker.io/library/busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
  ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
  ['ghcr.io/org/app:1.2', 'ghcr.io/org/app:1.2'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/a/b/c:v1', 'localhost:5000/a/b/c:v1'],
  ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
  [`redis@${sha256('x')}`, `docker.io/library/redis@${sha256('x')}`],
  [`redis:7@${sha256('x')}`, `docker.io/library/redis@${sha256('x')}`],
];
for (const [name, canonical] of NAMES) {
  test(`normalizeName: ${name} is ${canonical}`, () => assert.is(normalizeName(name), canonical));
}

test.run();
