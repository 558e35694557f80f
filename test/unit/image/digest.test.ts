// Content digests: the one form the store names content by, and hashing.
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDigest, sha256 } from '../../../lib/image/digest.ts';

const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

test('isDigest: sha256 and 64 lower-case hex digits only', () => {
  assert.ok(isDigest(D));
  assert.not.ok(isDigest(D.toUpperCase()));
  assert.not.ok(isDigest(D.slice(0, -1)));
  assert.not.ok(isDigest(D.replace('sha256', 'sha512')));
  assert.not.ok(isDigest(D.slice(7)));
});

test('sha256 of bytes', () => {
  assert.is(sha256(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test.run();
