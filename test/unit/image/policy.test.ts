import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultPullPolicy, ImagePullError, mustPull } from '../../../lib/image/policy.ts';

const DEFAULTS: [string, { tag?: string; digest?: string }, string][] = [
  ['no tag', {}, 'Always'],
  [':latest', { tag: 'latest' }, 'Always'],
  ['a tag', { tag: '7-alpine' }, 'IfNotPresent'],
  ['a digest', { digest: `sha256:${'a'.repeat(64)}` }, 'IfNotPresent'],
  [':latest pinned by digest', { tag: 'latest', digest: `sha256:${'a'.repeat(64)}` }, 'IfNotPresent'],
];
for (const [what, ref, policy] of DEFAULTS) {
  test(`default imagePullPolicy for ${what}: ${policy}`, () => assert.is(defaultPullPolicy(ref), policy));
}

test('Always pulls whether or not the image is present', () => {
  assert.is(mustPull('Always', true, 'x'), true);
  assert.is(mustPull('Always', false, 'x'), true);
});

test('IfNotPresent pulls only an absent image', () => {
  assert.is(mustPull('IfNotPresent', true, 'x'), false);
  assert.is(mustPull('IfNotPresent', false, 'x'), true);
});

test("Never uses a present image and refuses an absent one with the kubelet's reason and message", () => {
  assert.is(mustPull('Never', true, 'x'), false);
  try {
    mustPull('Never', false, 'redis:7');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ImagePullError);
    assert.is((err as ImagePullError).reason, 'ErrImageNeverPull');
    assert.is((err as Error).message, 'ErrImageNeverPull: Container image "redis:7" is not present with pull policy of Never');
  }
});

test.run();
