// Image references as containerd, CRI-O and docker read them: the grammar of
// distribution/reference and its normalisation (ParseDockerRef), so that
// `redis` means docker.io/library/redis:latest here as it does to a kubelet.
//
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] path      domain: when the first component has a
//                                       '.' or ':', is "localhost" or has upper case
import { MinipodError } from '../errors.ts';
import { isDigest } from './digest.ts';

export interface Reference {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  domain: string;
  /** `library/redis`, `org/app`. */
  path: string;
  /** `latest` when neither a tag nor a digest was given; absent when a digest pins the image. */
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const MAX_PATH = 255;

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;

/**
 * Parse and normalise `s`. Given both a tag and a digest, the digest wins and
 * the tag is dropped, as ParseDockerRef does: what is fetched is the digest.
 */
export function parseReference(s: string): Reference {
  const reason = (why: string) => new MinipodError(`invalid reference format: ${JSON.stringify(s)}: ${why}`);
  // An image ID is not a name: docker refuses it for the same reason.
  if (IDENTIFIER.test(s)) throw reason('cannot specify 64-byte hexadecimal strings');
  const at = s.indexOf('@');
  const nameAndTag = at < 0 ? s : s.slice(0, at);
  const digest = at < 0 ? undefined : s.slice(at + 1);
  // A tag has neither '/' nor ':', so a ':' after the last '/' starts it; any
  // other ':' belongs to the domain's port.
  const colon = nameAndTag.lastIndexOf(':');
  const tagAt = colon > nameAndTag.lastIndexOf('/') ? colon : -1;
  const name = tagAt < 0 ? nameAndTag : nameAndTag.slice(0, tagAt);
  const tag = tagAt < 0 ? undefined : nameAndTag.slice(tagAt + 1);
  if (name === '') throw reason('repository name must have at least one component');

  const { domain, remote } = splitDomain(name);
  if (!DOMAIN.test(domain)) throw reason(`invalid registry host "${domain}"`);
  if (!PATH.test(remote)) {
    throw reason(PATH.test(remote.toLowerCase()) ? 'repository name must be lowercase' : `invalid repository name "${remote}"`);
  }
  // Official images live under library/ on Docker Hub only.
  const path = domain === DEFAULT_DOMAIN && !remote.includes('/') ? OFFICIAL_PREFIX + remote : remote;
  if (path.length > MAX_PATH) throw reason(`repository name must not be more than ${MAX_PATH} characters`);
  if (tag !== undefined && !TAG.test(tag)) throw reason(`invalid tag "${tag}"`);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem) throw reason(problem);
    return { domain, path, digest };
  }
  return { domain, path, tag: tag ?? 'latest' };
}

function splitDomain(name: string): { domain: string; remote: string } {
  const slash = name.indexOf('/');
  const first = name.slice(0, slash);
  if (slash >= 0 && (first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase())) {
    return { domain: first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first, remote: name.slice(slash + 1) };
  }
  return { domain: DEFAULT_DOMAIN, remote: name };
}

/** go-digest's reasons, for the one algorithm the store addresses content by. */
function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `invalid digest "${digest}"`;
  const [algorithm, hex = ''] = digest.split(':');
  if (algorithm !== 'sha256') return `unsupported digest algorithm "${algorithm}" (minipod stores sha256 content)`;
  if (hex.length !== 64) return `invalid checksum digest length in "${digest}"`;
  if (!isDigest(digest)) return `invalid checksum digest format in "${digest}" (lower-case hex)`;
  return undefined;
}

/** `docker.io/library/redis:7`, or `...@sha256:...` when pinned: the name containerd and the CRI report. */
export function canonicalName(r: Reference): string {
  return `${r.domain}/${r.path}${suffix(r)}`;
}

/** `redis:7`, `org/app:1`, `ghcr.io/org/app:1.2`: the name `docker images` and podman show. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return canonicalName(r);
  const official = r.path.startsWith(OFFICIAL_PREFIX) && !r.path.slice(OFFICIAL_PREFIX.length).includes('/');
  return `${official ? r.path.slice(OFFICIAL_PREFIX.length) : r.path}${suffix(r)}`;
}

function suffix(r: Reference): string {
  return (r.tag === undefined ? '' : `:${r.tag}`) + (r.digest === undefined ? '' : `@${r.digest}`);
}

/** A reference as written, by its canonical name: `redis` is `docker.io/library/redis:latest`. */
export function normalizeName(s: string): string {
  return canonicalName(parseReference(s));
}
