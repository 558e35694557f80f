import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pod } from 'kubernetes-models/v1';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifest } from '../../lib/spec/load.ts';
import { validatePod } from '../../lib/spec/validate.ts';

// Every manifest we ship (examples/, bench/pods/) must mean the same to
// Kubernetes: it passes the official v1 Pod JSON schema (kubernetes-models),
// and minipod's own validation, without a warning.
const dirs = ['examples', 'bench/pods'];
const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => join(dir, f)));

test('there are manifests to check', () => {
  assert.ok(files.length >= 4, files.join(', '));
});

for (const file of files) {
  test(`${file} passes Kubernetes' v1 Pod schema and minipod's validation`, async () => {
    const { manifest } = await loadManifest(file);
    const pod = new Pod(manifest as ConstructorParameters<typeof Pod>[0]);
    try {
      pod.validate();
    } catch (err) {
      assert.unreachable(`Kubernetes' schema rejects ${file}: ${(err as Error).message}`);
    }
    const { errors, warnings } = validatePod(manifest);
    assert.equal(errors, []);
    assert.equal(warnings, []);
  });
}

test('the schema check can fail: a Pod without containers is rejected', () => {
  assert.throws(() => new Pod({ metadata: { name: 'x' }, spec: {} } as never).validate());
});

test.run();
