// The archives `minipod load` is tested with, read by skopeo (which reads
// what docker and podman write): a `docker save` tarball and an OCI archive.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerSaveArchive, ociArchive } from '../../helpers/archives.ts';
import { buildImage, buildIndex, readBlob, readLayerTar, sha256 } from '../../helpers/oci-layout.ts';
import { skopeoInspect } from '../../helpers/skopeo.ts';
import { featureImage, multiPlatformImages } from '../../helpers/test-images.ts';

const tmp = mkdtempSync(join(tmpdir(), 'minipod-archives-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('docker save format: layers first, then the config, manifest.json and repositories; skopeo reads it', async () => {
  const image = await buildImage(featureImage(), { dir: join(tmp, 'feature') });
  const file = join(tmp, 'feature-docker.tar');
  await dockerSaveArchive(image, 'feature:1', file);
  const list = (await execa('tar', ['-tf', file])).stdout.split('\n');
  const configName = `${image.config.digest.slice(7)}.json`;
  assert.equal(list.slice(-3), [configName, 'manifest.json', 'repositories']);
  assert.is(list.length, 5 * 4 + 3);
  const manifest = JSON.parse((await execa('tar', ['-xOf', file, 'manifest.json'])).stdout);
  assert.equal(manifest.length, 1);
  assert.equal([manifest[0].Config, manifest[0].RepoTags], [configName, ['feature:1']]);
  assert.equal(manifest[0].Layers.map((l: string) => l.replace(/^[0-9a-f]{64}\//, '')), Array(5).fill('layer.tar'));
  const firstLayer = await execa('tar', ['-xOf', file, manifest[0].Layers[0]], { encoding: 'buffer' });
  assert.equal(Buffer.from(firstLayer.stdout), await readLayerTar(image.layoutDir, image.layers[0]!));
  const repositories = JSON.parse((await execa('tar', ['-xOf', file, 'repositories'])).stdout);
  assert.equal(repositories, { feature: { 1: manifest[0].Layers[4].slice(0, 64) } });

  const inspected = JSON.parse(await skopeoInspect(`docker-archive:${file}`));
  assert.equal(inspected.Layers, image.layers.map((l) => l.diffID));
  assert.is(sha256(Buffer.from(await skopeoInspect(`docker-archive:${file}`, { raw: true, config: true }))), image.config.digest);
});

test('a name with a registry port and no tag: RepoTags gets :latest, the port stays in the name', async () => {
  const image = await buildImage(featureImage(), { dir: join(tmp, 'port') });
  const file = join(tmp, 'port.tar');
  await dockerSaveArchive(image, '127.0.0.1:5000/team/app', file);
  const manifest = JSON.parse((await execa('tar', ['-xOf', file, 'manifest.json'])).stdout);
  assert.equal(manifest[0].RepoTags, ['127.0.0.1:5000/team/app:latest']);
  assert.equal(Object.keys(JSON.parse((await execa('tar', ['-xOf', file, 'repositories'])).stdout)), ['127.0.0.1:5000/team/app']);
});

test('OCI archive: the layout as a tar, its index.json naming the ref; skopeo reads the manifest and the index as built', async () => {
  const image = await buildImage(featureImage(), { dir: join(tmp, 'oci'), ref: 'feature:1' });
  const file = join(tmp, 'feature-oci.tar');
  ociArchive(image.layoutDir, file);
  const list = (await execa('tar', ['-tf', file])).stdout.split('\n');
  assert.equal(list.slice(0, 4), ['oci-layout', 'index.json', 'blobs/', 'blobs/sha256/']);
  const index = JSON.parse((await execa('tar', ['-xOf', file, 'index.json'])).stdout);
  assert.is(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'feature:1');
  assert.is(await skopeoInspect(`oci-archive:${file}:feature:1`, { raw: true }), readBlob(image.layoutDir, image.manifest.digest).toString());

  const multi = await buildIndex(multiPlatformImages(), { dir: join(tmp, 'oci-index') });
  const multiFile = join(tmp, 'multi-oci.tar');
  ociArchive(multi.layoutDir, multiFile);
  assert.is(sha256(Buffer.from(await skopeoInspect(`oci-archive:${multiFile}`, { raw: true }))), multi.index.digest);
  assert.equal(readFileSync(multiFile).length % 512, 0);
});

test.run();
