// Registry credentials from the files podman and docker keep them in:
//   $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json (podman login),
//   $DOCKER_CONFIG/config.json or ~/.docker/config.json (docker login).
// The first file with an entry for the image wins; within a file the most
// specific key does: podman's `host/ns/repo`, then `host/ns`, then `host`.
// Keys may also be written `https://host/v1/` (docker's older form), and
// docker.io is also `index.docker.io` and `registry-1.docker.io`.
// An entry gives `auth` (base64 "user:password") or `username` and `password`.
// Not read: `identitytoken` (an OAuth refresh token, Docker Desktop's), and
// credential helpers (`credsStore`, `credHelpers`): minipod runs no helper
// program; a 401 says when one was configured for the registry.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, type Obj } from '../spec/json.ts';

export interface Credentials {
  username: string;
  password: string;
  /** `FILE (KEY)`: where they came from, for messages. */
  source: string;
}

export interface CredentialSearch {
  credentials?: Credentials;
  /** The files looked in, for a message when there were none. */
  files: string[];
  /** `FILE names credential helper "desktop"`: set when a helper would have had them. */
  helper?: string;
}

export type Env = Record<string, string | undefined>;

export function authFiles(env: Env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  if (env.DOCKER_CONFIG) files.push(join(env.DOCKER_CONFIG, 'config.json'));
  else if (env.HOME) files.push(join(env.HOME, '.docker', 'config.json'));
  return files;
}

/** Credentials for the repository `domain/path` (domain as in a Reference: `docker.io`, `host:port`). */
export function findCredentials(domain: string, path: string, env: Env): CredentialSearch {
  const components = path.split('/');
  // Most specific first: domain/a/b/c, domain/a/b, domain/a, domain.
  const wanted = components.map((_, i) => [domain, ...components.slice(0, components.length - i)].join('/')).concat(domain);
  const search: CredentialSearch = { files: authFiles(env) };
  for (const file of search.files) {
    const doc = readAuthFile(file);
    if (doc === undefined) continue;
    const auths = isObject(doc.auths) ? doc.auths : {};
    const keys = Object.keys(auths);
    for (const key of wanted) {
      const raw = keys.find((k) => normalizeKey(k) === key);
      const credentials = raw === undefined ? undefined : decodeEntry(auths[raw], `${file} (${raw})`);
      if (credentials) return { ...search, credentials };
    }
    const helper = search.helper ?? helperFor(doc, domain, file);
    if (helper) search.helper = helper;
  }
  return search;
}

function readAuthFile(file: string): Obj | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw wrapError(`read credentials ${file}`, err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MinipodError(`read credentials ${file}: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new MinipodError(`read credentials ${file}: not a JSON object`);
  return doc;
}

/** An auths key as the registry/repository it names: scheme and API path dropped, Docker Hub's aliases made docker.io. */
export function normalizeKey(key: string): string {
  const url = /^https?:\/\/([^/]+)/.exec(key);
  const [host = '', ...rest] = (url ? url[1]! : key).replace(/\/+$/, '').split('/');
  const domain = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return [domain, ...rest].join('/');
}

function decodeEntry(entry: unknown, source: string): Credentials | undefined {
  if (!isObject(entry)) return undefined;
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new MinipodError(`read credentials ${source}: "auth" is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}

function helperFor(doc: Obj, domain: string, file: string): string | undefined {
  const helpers = isObject(doc.credHelpers) ? doc.credHelpers : {};
  const key = Object.keys(helpers).find((k) => normalizeKey(k) === domain);
  const helper = key === undefined ? doc.credsStore : helpers[key];
  return typeof helper === 'string' && helper !== '' ? `${file} names credential helper "${helper}"` : undefined;
}
