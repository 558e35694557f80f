// The pull benchmark's images, small: 5 gzip layers, the next image sharing
// the first 4, built once into the cache; and bench/images.ts serve, which
// holds them in a registry until SIGTERM and leaves nothing behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDeno } from '../../../lib/sys/host.ts';
import { bigImage, bigSpec, BIG_IMAGE_VERSION } from '../../helpers/big-image.ts';
import { layerTar, sha256 } from '../../helpers/oci-layout.ts';
import { childrenOf, cmdline, running } from '../../helpers/reliability.ts';
import { skopeoInspect } from '../../helpers/skopeo.ts';

const repo = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'minipod-big-image-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const MiB = 1024 * 1024;

test('bigImage: base has 5 gzip layers of MIB/5 each, busybox in the first; next shares the first 4', async () => {
  const t0 = performance.now();
  const big = await bigImage(join(tmp, 'cache'), { mib: 5 });
  console.log(`    built 5 + 1 layers of 1 MiB: ${Math.round(performance.now() - t0)} ms`);
  assert.is(big.layoutDir, join(tmp, 'cache', `big-v${BIG_IMAGE_VERSION}-5mib`, 'layout'));
  assert.equal(big.base.layers.map((l) => l.mediaType), Array(5).fill('application/vnd.oci.image.layer.v1.tar+gzip'));
  assert.equal(big.next.layers.slice(0, 4), big.base.layers.slice(0, 4));
  assert.is.not(big.next.layers[4]!.digest, big.base.layers[4]!.digest);
  // at 5 MiB, busybox alone (~2 MiB) is more than layer 1's share: no filler there
  assert.ok(big.base.layers[0]!.tarSize > 1.5 * MiB && big.base.layers[0]!.tarSize < 2.5 * MiB, `layer 1: ${big.base.layers[0]!.tarSize}`);
  for (const l of big.base.layers.slice(1)) {
    assert.ok(Math.abs(l.tarSize - MiB) < 0.1 * MiB, `a layer's tar is ~1 MiB, not ${l.tarSize}`);
    // half random (incompressible), half text over 16 letters
    assert.ok(l.size > 0.4 * l.tarSize && l.size < 0.95 * l.tarSize, `compressed ${l.size} of ${l.tarSize}`);
  }
  const first = bigSpec(5, 'base').layers[0]!.entries.map((e) => ('path' in e ? e.path : ''));
  assert.ok(first.includes('bin/busybox') && first.includes('etc/passwd'));
  assert.is(sha256(layerTar(bigSpec(5, 'next').layers[3]!)), big.base.layers[3]!.diffID, 'the same recipe, the same tar');
});

test('bigImage: a second call uses the cache as it is, and no temporary build is left', async () => {
  const cache = join(tmp, 'cache');
  const built = join(cache, `big-v${BIG_IMAGE_VERSION}-5mib`, 'built.json');
  const mtime = statSync(built).mtimeMs;
  const again = await bigImage(cache, { mib: 5 });
  assert.is(statSync(built).mtimeMs, mtime);
  assert.is(again.base.layoutDir, again.layoutDir);
  assert.equal(readdirSync(cache), [`big-v${BIG_IMAGE_VERSION}-5mib`]);
});

test('bench/images.ts serve: one JSON line once both are pushed; SIGTERM stops the registry, exit 0', async () => {
  const args = isDeno ? ['run', '-A', 'bench/images.ts'] : ['--import', 'tsx', 'bench/images.ts'];
  const child = spawn(process.execPath, [...args, 'serve', '--cache', join(tmp, 'cache'), '--mib', '5'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes('\n') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('\n'), `no JSON line from serve: ${err}`);
    const info = JSON.parse(out);
    assert.match(info.next.reference, /^127\.0\.0\.1:\d+\/big:next$/);
    assert.is(JSON.parse(await skopeoInspect(`docker://${info.next.reference}`)).Digest, info.next.manifest);
    assert.ok(existsSync(info.base.layers[0].file));
    const registries = childrenOf(child.pid!).filter((pid) => cmdline(pid).includes('docker-registry'));
    assert.is(registries.length, 1);
    const dir = dirname(/serve (\S+)/.exec(cmdline(registries[0]!))![1]!);
    // process.kill, not child.kill: after child.kill() Deno reports the exit as (null, SIGTERM) whatever the child did.
    process.kill(child.pid!, 'SIGTERM');
    assert.is(await exited, 0);
    assert.not.ok(running(registries[0]!), 'the registry is gone');
    assert.not.ok(existsSync(dir), `${dir} is removed`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
