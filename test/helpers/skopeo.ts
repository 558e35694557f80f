// Debian's skopeo (1.9.3) between the hand-written layouts and the real
// registry: it pushes them as any client would, and reads back what the
// registry and the archives hold, so the test images are checked by a tool
// that is not ours.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { isRoot } from './cli.ts';
import { readBlob, REF_NAME, type Descriptor } from './oci-layout.ts';

export interface PushOptions {
  /** The layout's `org.opencontainers.image.ref.name`; `latest` unless said. */
  ref?: string;
  /** Push an index with every manifest it lists (skopeo's --all). */
  all?: boolean;
  /** `user:password` for a registry with htpasswd. */
  creds?: string;
}

/**
 * `skopeo copy oci:LAYOUT:REF docker://HOST/NAME:TAG`, the manifest pushed
 * byte for byte (--preserve-digests fails rather than convert it); resolves
 * to the digest the registry now serves for NAME:TAG.
 */
export async function pushImage(layoutDir: string, registryHost: string, nameTag: string, opts: PushOptions = {}): Promise<string> {
  const ref = opts.ref ?? 'latest';
  const tmp = mkdtempSync(join(tmpdir(), 'minipod-push-'));
  try {
    const top = layoutEntry(layoutDir, ref);
    // skopeo's oci: transport resolves only index.json entries of OCI media
    // types; Docker schema 2 manifests and manifest lists go through its
    // dir: transport, a directory of the same blobs by hex name.
    const source = top.mediaType.startsWith('application/vnd.oci.') ? `oci:${layoutDir}:${ref}` : `dir:${dirView(layoutDir, top, join(tmp, 'dir'))}`;
    const digestFile = join(tmp, 'digest');
    await skopeo([
      'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--digestfile', digestFile,
      ...(opts.all ? ['--all'] : []),
      ...(opts.creds ? ['--dest-creds', opts.creds] : []),
      source, `docker://${registryHost}/${nameTag}`,
    ]);
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface InspectOptions {
  /** The manifest (or index) exactly as served, not skopeo's summary. */
  raw?: boolean;
  /** The image config instead of the manifest. */
  config?: boolean;
  creds?: string;
}

/** `skopeo inspect` of any transport (docker://, oci:, oci-archive:, docker-archive:): its stdout. */
export async function skopeoInspect(reference: string, opts: InspectOptions = {}): Promise<string> {
  return skopeo([
    'inspect',
    ...(opts.raw ? ['--raw'] : []),
    ...(opts.config ? ['--config'] : []),
    ...(reference.startsWith('docker://') ? ['--tls-verify=false'] : []),
    ...(opts.creds ? ['--creds', opts.creds] : []),
    reference,
  ]);
}

function layoutEntry(layoutDir: string, ref: string): Descriptor {
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as { manifests: (Descriptor & { annotations?: Record<string, string> })[] };
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === ref);
  if (!entry) throw new Error(`${layoutDir}: index.json has no image named ${JSON.stringify(ref)}`);
  return entry;
}

/** The dir: transport's layout: `version`, `manifest.json`, a list's manifests as HEX.manifest.json, blobs as HEX (links here). */
function dirView(layoutDir: string, top: Descriptor, dir: string): string {
  mkdirSync(dir);
  writeFileSync(join(dir, 'version'), 'Directory Transport Version: 1.1\n');
  const manifest = readBlob(layoutDir, top.digest);
  writeFileSync(join(dir, 'manifest.json'), manifest);
  const children = (JSON.parse(manifest.toString()) as { manifests?: Descriptor[] }).manifests ?? [];
  for (const child of children) writeFileSync(join(dir, `${hexOf(child.digest)}.manifest.json`), readBlob(layoutDir, child.digest));
  const blobs = join(layoutDir, 'blobs', 'sha256');
  for (const hex of readdirSync(blobs)) symlinkSync(join(blobs, hex), join(dir, hex));
  return dir;
}

const hexOf = (digest: string) => digest.slice(digest.indexOf(':') + 1);

export async function skopeo(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  // --insecure-policy: the signature policy of the machine (if it has one) is no business of a test.
  // As root skopeo keeps a blob cache in /var/lib/containers/cache, which
  // no flag moves: it runs in a mount namespace of its own, with an empty
  // tmpfs over /var/lib, so the machine keeps nothing of a test's (as
  // another user, its cache is that user's, under ~/.local/share).
  const command = ['skopeo', '--insecure-policy', ...args];
  const [file, argv] = isRoot ? ['unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o mode=0755 tmpfs /var/lib && exec "$@"', 'sh', ...command]] : [command[0]!, command.slice(1)];
  const r = await execa(file, argv, { reject: false, timeout: 120_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  if (r.failed) {
    const why = r.code === 'ENOENT' ? 'not installed (install Debian\'s skopeo)' : (r.stderr || r.message || '').trim();
    throw new Error(`skopeo ${args[0]} ${args[args.length - 1]}: ${why}`);
  }
  return r.stdout;
}
