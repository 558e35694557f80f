// An image of more layers than one page of overlay mount options holds as
// absolute paths (issue #11): the pod still starts, its root stacking every
// layer in order, through the short relative links containerd uses.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { commandPod, linesOf } from '../helpers/cli.ts';
import { kernelSuite } from '../helpers/kernel-suite.ts';
import { buildImage } from '../helpers/oci-layout.ts';
import { startRegistry } from '../helpers/registry.ts';
import { pushImage } from '../helpers/skopeo.ts';
import { busyboxImage } from '../helpers/test-images.ts';

const s = kernelSuite('images: many layers');

s.test('a 120-layer image runs: every layer in the root, the topmost over the lower, through relative links', async ({ scratch }) => {
  const registry = await startRegistry();
  const built = await buildImage(busyboxImage(120));
  const images = join(scratch.dir, 'images');
  try {
    await pushImage(built.layoutDir, registry.host, 'test/many:120');
    const ref = `${registry.host}/test/many:120`;
    const pull = await scratch.minipod(['--images', images, 'pull', '-q', ref]);
    assert.is(pull.exitCode, 0, pull.all);
    // Each snapshot's fs path is ~100 characters: 120 of them are three pages of options.
    const pod = commandPod('many', ['sh', '-c', 'cat /etc/layer-4 /etc/layer-60 /etc/layer-120; ls /etc | grep -c layer-'], ref);
    const run = await scratch.minipod(['--images', images, 'run', scratch.manifest('many.json', pod)]);
    assert.is(run.exitCode, 0, run.all);
    assert.equal(linesOf(run.stdout, 'c'), ['layer 4', 'layer 60', 'layer 120', '117']);
  } finally {
    await registry.stop();
    rmSync(built.layoutDir, { recursive: true, force: true });
  }
});

s.run();
