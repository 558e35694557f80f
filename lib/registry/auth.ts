// The registry's side of authentication: the challenges of a 401's
// WWW-Authenticate (RFC 7235), and the token request of Docker's token
// protocol that a Bearer challenge asks for.
import { Buffer } from 'node:buffer';
import { MinipodError } from '../errors.ts';
import { isObject } from '../spec/json.ts';
import type { Credentials } from './credentials.ts';

export interface Challenge {
  /** Lower case: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names in lower case, values unquoted: realm, service, scope. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const BARE = /[^ \t,]*/y;
const SPACE = /[ \t]*/y;
const SEPARATORS = /[ \t,]*/y;

/**
 * The challenges in a WWW-Authenticate value (or several joined by commas):
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io", Basic realm="x"`.
 * Quoted values may hold commas and backslash escapes.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const match = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    const m = re.exec(header);
    if (m) i = re.lastIndex;
    return m;
  };
  while (i < header.length) {
    match(SEPARATORS);
    const token = match(TOKEN)?.[0];
    if (token === undefined) {
      i++; // not a token: skip what cannot be read rather than loop on it
      continue;
    }
    const afterToken = i;
    match(SPACE);
    const current = challenges.at(-1);
    if (current && header[i] === '=') {
      i++;
      match(SPACE);
      const quoted = match(QUOTED);
      const value = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : match(BARE)![0];
      current.params[token.toLowerCase()] = value;
    } else {
      i = afterToken;
      challenges.push({ scheme: token.toLowerCase(), params: {} });
    }
  }
  return challenges;
}

export function basicAuthorization(c: Pick<Credentials, 'username' | 'password'>): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** Where to ask for a token: the realm, with the challenge's service and our scope. */
export function tokenURL(challenge: Challenge, scope: string): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new MinipodError('the Bearer challenge names no realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new MinipodError(`the Bearer challenge's realm "${realm}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new MinipodError(`the Bearer challenge's realm "${realm}" is not an http(s) URL`);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', scope);
  return url;
}

/** The token of a token server's answer: `token`, or OAuth's `access_token`. */
export function parseTokenResponse(bytes: Uint8Array): string {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new MinipodError(`the token server's answer is not JSON: ${(err as Error).message}`);
  }
  const token = isObject(doc) ? (doc.token ?? doc.access_token) : undefined;
  if (typeof token !== 'string' || token === '') throw new MinipodError('the token server\'s answer has no "token" nor "access_token"');
  return token;
}
