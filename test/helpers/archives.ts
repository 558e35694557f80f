// The two archive formats `minipod load` reads, made from a built image:
// what `docker save` writes (before Docker 25) and an OCI image layout as
// one tar (what `skopeo copy ... oci-archive:` and `podman save --format
// oci-archive` write). Both are checked loadable by skopeo in the harness test.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXED_MTIME, readBlob, readLayerTar, type BuiltImage } from './oci-layout.ts';
import { tarArchive, type TarEntry } from './tar-writer.ts';

/**
 * A `docker save` tarball of IMAGE as NAMETAG: per layer a directory
 * <id>/ with VERSION, json and the uncompressed layer.tar; the config as
 * <config hex>.json; manifest.json ([{Config, RepoTags, Layers}]) and
 * `repositories`. In the order docker wrote them, layers first, so a
 * loader reading a stream meets the layers before the manifest naming them.
 */
export async function dockerSaveArchive(image: BuiltImage, nameTag: string, file: string): Promise<void> {
  const entries: TarEntry[] = [];
  const layerPaths: string[] = [];
  let parent = '';
  for (const layer of image.layers) {
    // Docker's v1 ids chain each layer to its parent; any stable chain will do.
    const id = createHash('sha256').update(`${parent} ${layer.diffID}`).digest('hex');
    entries.push(
      dirEntry(`${id}/`),
      fileEntry(`${id}/VERSION`, '1.0'),
      fileEntry(`${id}/json`, JSON.stringify({ id, ...(parent ? { parent } : {}), created: image.configJson.created })),
      fileEntry(`${id}/layer.tar`, await readLayerTar(image.layoutDir, layer)),
    );
    layerPaths.push(`${id}/layer.tar`);
    parent = id;
  }
  const configName = `${image.config.digest.slice('sha256:'.length)}.json`;
  const colon = nameTag.lastIndexOf(':');
  const [repo, tag] = colon > nameTag.lastIndexOf('/') ? [nameTag.slice(0, colon), nameTag.slice(colon + 1)] : [nameTag, 'latest'];
  entries.push(
    fileEntry(configName, readBlob(image.layoutDir, image.config.digest)),
    fileEntry('manifest.json', JSON.stringify([{ Config: configName, RepoTags: [`${repo}:${tag}`], Layers: layerPaths }])),
    fileEntry('repositories', JSON.stringify({ [repo]: { [tag]: parent } })),
  );
  writeFileSync(file, tarArchive(entries));
}

/** The OCI layout at LAYOUTDIR as one tar; its index.json names each image with org.opencontainers.image.ref.name. */
export function ociArchive(layoutDir: string, file: string): void {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  writeFileSync(file, tarArchive([
    fileEntry('oci-layout', readFileSync(join(layoutDir, 'oci-layout'))),
    fileEntry('index.json', readFileSync(join(layoutDir, 'index.json'))),
    dirEntry('blobs/'),
    dirEntry('blobs/sha256/'),
    ...readdirSync(blobs).sort().map((hex) => fileEntry(`blobs/sha256/${hex}`, readFileSync(join(blobs, hex)))),
  ]));
}

function dirEntry(name: string): TarEntry {
  return { header: { name, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: FIXED_MTIME } };
}

function fileEntry(name: string, body: string | Uint8Array): TarEntry {
  return { header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: FIXED_MTIME }, body: typeof body === 'string' ? Buffer.from(body) : body };
}
