// Platforms, and the choice of an index entry as containerd's platforms.Only makes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Platform,
  type PlatformEntry,
  chooseManifest,
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  runsOn,
} from '../../../lib/image/platform.ts';
import { minipodError } from '../../helpers/assert.ts';

test('hostPlatform from process.arch: linux/amd64, linux/arm64/v8', () => {
  assert.equal(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.equal(hostPlatform('ppc64'), { os: 'linux', architecture: 'ppc64le' });
  assert.equal(hostPlatform('s390x'), { os: 'linux', architecture: 's390x' });
  assert.ok(['amd64', 'arm64'].includes(hostPlatform().architecture));
});

const PARSE: [string, Platform][] = [
  ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
  ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
  ['Linux/ARM/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
  ['linux/arm64/v8.2', { os: 'linux', architecture: 'arm64', variant: 'v8.2' }],
  ['linux/x86_64', { os: 'linux', architecture: 'x86_64' }],
];
for (const [input, platform] of PARSE) {
  test(`parsePlatform(${input}) and back`, () => {
    assert.equal(parsePlatform(input), platform);
    assert.is(formatPlatform(platform), input.toLowerCase());
  });
}

for (const input of ['', 'linux', 'linux/', '/amd64', 'linux/amd64/v1/x', 'linux/am d64', 'linux/arm64/v8 ']) {
  test(`parsePlatform(${JSON.stringify(input)}) is refused`, () => {
    assert.is(
      minipodError(() => parsePlatform(input)),
      `invalid platform "${input}": expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8`,
    );
  });
}

const VECTORS: [string, string[]][] = [
  ['linux/amd64', ['linux/amd64', 'linux/386']],
  ['linux/amd64/v1', ['linux/amd64', 'linux/386']],
  ['linux/amd64/v3', ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']],
  ['linux/arm64', ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
  ['linux/aarch64/v8', ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
  ['linux/arm64/v8.2', ['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
  [
    'linux/arm64/v9.1',
    ['linux/arm64/v9.1', 'linux/arm64/v9', 'linux/arm64/v8.6', 'linux/arm64/v8.5', 'linux/arm64/v8.4', 'linux/arm64/v8.3', 'linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64',
      'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5'],
  ],
  ['linux/arm', ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
  ['linux/armhf', ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
  ['linux/arm/v5', ['linux/arm/v5']],
  ['linux/riscv64', ['linux/riscv64']],
];
for (const [want, runs] of VECTORS) {
  test(`${want} runs, best first: ${runs.join(', ')}`, () => {
    assert.equal(compatiblePlatforms(parsePlatform(want)).map(formatPlatform), runs);
  });
}

const entry = (platform: string, annotations?: Record<string, string>): PlatformEntry & { name: string } => ({
  name: platform,
  platform: parsePlatform(platform),
  ...(annotations ? { annotations } : {}),
});
const ATTESTATION = { 'vnd.docker.reference.type': 'attestation-manifest' };
const INDEX = [
  entry('unknown/unknown', ATTESTATION),
  entry('linux/386'),
  entry('linux/amd64', ATTESTATION),
  entry('linux/amd64'),
  entry('linux/arm/v6'),
  entry('linux/arm/v7'),
  entry('linux/arm64/v8'),
  entry('linux/ppc64le'),
];
const CHOICES: [string, PlatformEntry[], string | undefined][] = [
  ['linux/amd64', INDEX, 'linux/amd64'],
  ['linux/amd64/v3', INDEX, 'linux/amd64'],
  ['linux/arm64', INDEX, 'linux/arm64/v8'],
  ['linux/arm64/v8', INDEX, 'linux/arm64/v8'],
  ['linux/arm/v7', INDEX, 'linux/arm/v7'],
  ['linux/arm/v8', INDEX, 'linux/arm/v7'],
  ['linux/arm/v5', INDEX, undefined],
  ['linux/s390x', INDEX, undefined],
  ['windows/amd64', INDEX, undefined],
  ['linux/amd64/v3', [entry('linux/amd64'), entry('linux/amd64/v2'), entry('linux/amd64/v4')], 'linux/amd64/v2'],
  ['linux/amd64', [entry('linux/386')], 'linux/386'],
  ['linux/arm64', [entry('linux/arm/v6'), entry('linux/arm/v7')], 'linux/arm/v7'],
  // Spelt another way, the same platform.
  ['linux/arm64/v8', [entry('linux/aarch64')], 'linux/aarch64'],
  ['linux/amd64', [entry('linux/x86_64')], 'linux/x86_64'],
  ['linux/arm64', [entry('linux/arm64/8')], 'linux/arm64/8'],
  // An attestation, whatever platform it names, is never chosen; nor an entry without a platform.
  ['linux/amd64', [entry('linux/amd64', ATTESTATION), { annotations: {} }], undefined],
];
for (const [want, entries, chosen] of CHOICES) {
  test(`chooseManifest for ${want} from ${entries.map((e) => (e.platform ? formatPlatform(e.platform) : 'none')).join(', ')}: ${chosen ?? 'none'}`, () => {
    const found = chooseManifest(entries, parsePlatform(want));
    assert.is(found && formatPlatform(found.platform!), chosen);
    if (found) assert.ok(found === entries.find((e) => e.platform === found.platform && !e.annotations));
  });
}

test('chooseManifest: of equals, the first listed', () => {
  const first = entry('linux/amd64');
  const second = entry('linux/amd64');
  assert.ok(chooseManifest([first, second], parsePlatform('linux/amd64')) === first);
});

test('chooseManifest: os, architecture and variant, arm64 meaning v8 unless said; an entry without a platform is never chosen', () => {
  const m = (architecture: string, variant?: string) => ({ digest: architecture + (variant ?? ''), platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const manifests: (PlatformEntry & { digest: string })[] = [{ digest: 'attestation' }, m('amd64'), m('arm', 'v6'), m('arm', 'v7'), m('arm64', 'v8')];
  assert.is(chooseManifest(manifests, { os: 'linux', architecture: 'amd64' })?.digest, 'amd64');
  assert.is(chooseManifest(manifests, { os: 'linux', architecture: 'arm64' })?.digest, 'arm64v8');
  assert.is(chooseManifest(manifests, { os: 'linux', architecture: 'arm' })?.digest, 'armv7');
  assert.is(chooseManifest(manifests, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, 'armv6');
  assert.is(chooseManifest(manifests, { os: 'linux', architecture: 's390x' }), undefined);
  assert.is(chooseManifest([m('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, 'arm64');
  assert.is(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.is(hostPlatform().os, 'linux');
  assert.is(hostPlatform().architecture, { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64']);
});

test('runsOn: a config platform against the machine', () => {
  assert.ok(runsOn({ os: 'linux', architecture: 'arm64' }, parsePlatform('linux/arm64/v8')));
  assert.ok(runsOn({ os: 'linux', architecture: 'amd64', variant: 'v2' }, parsePlatform('linux/amd64/v3')));
  assert.not.ok(runsOn({ os: 'linux', architecture: 'amd64', variant: 'v3' }, parsePlatform('linux/amd64')));
  assert.not.ok(runsOn({ os: 'linux', architecture: 'arm64' }, parsePlatform('linux/amd64')));
});

test.run();
