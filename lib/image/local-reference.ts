import { MinipodError } from '../errors.ts';

/**
 * PLACEHOLDER, to be replaced by `canonicalName(parseReference(s))` from
 * lib/image/reference.ts once that module is on this branch; nothing else
 * here parses references.
 *
 * Docker's normalisation, as far as the store needs it: `busybox` ->
 * `docker.io/library/busybox:latest`, `host:5000/a/b` keeps its registry,
 * `name@sha256:...` keeps the digest (and drops a tag beside it, as
 * containerd's ParseDockerRef does).
 */
export function canonicalImageName(s: string): string {
  const m = /^(?:((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?|\[[0-9a-fA-F:]+\](?::\d+)?)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(\w[\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(s);
  if (!m) throw new MinipodError(`"${s}" is not an image reference`);
  let [, domain, path, tag, digest] = m;
  // A first component without '.' or ':' and other than localhost is a Docker Hub path, not a registry.
  if (domain !== undefined && !/[.:[]/.test(domain) && domain !== 'localhost') {
    path = `${domain}/${path}`;
    domain = undefined;
  }
  if (domain === undefined || domain === 'index.docker.io') domain = 'docker.io';
  if (/[A-Z]/.test(path!)) throw new MinipodError(`"${s}" is not an image reference`);
  if (domain === 'docker.io' && !path!.includes('/')) path = `library/${path}`;
  return `${domain}/${path}${digest ? `@${digest}` : `:${tag ?? 'latest'}`}`;
}
