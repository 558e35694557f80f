// The bearer-token flow of Docker Hub, ghcr.io and quay.io, for the fault
// proxy: every /v2/ request needs `Authorization: Bearer TOKEN`, and a 401
// says where to get one (`WWW-Authenticate: Bearer realm=...,service=...,
// scope=...`). The token endpoint grants public repositories to anyone and
// private ones only with the right HTTP Basic user and password, as Docker
// Hub's does: anonymous asks for a private repository get a token without
// it, and the registry's next answer is 401 insufficient_scope.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registryError } from './registry-errors.ts';

export interface BearerOptions {
  /** `minipod-test` unless said. */
  service?: string;
  /** Repositories (names without host) that need `user`/`password` at the token endpoint. */
  private?: { repos: string[]; user: string; password: string };
}

export interface TokenRequest {
  service: string | null;
  scopes: string[];
  /** The Basic user the client sent, if any. */
  user: string | null;
  /** The repositories the issued token grants (none when refused). */
  granted: string[];
  status: number;
}

export class TokenAuth {
  readonly service: string;
  readonly requests: TokenRequest[] = [];
  private readonly tokens = new Map<string, Set<string>>();

  constructor(private readonly opts: BearerOptions, private readonly realm: () => string) {
    this.service = opts.service ?? 'minipod-test';
  }

  /** GET /token?service=S&scope=repository:NAME:pull (scope repeatable). */
  issue(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const basic = parseBasic(req.headers.authorization);
    const record: TokenRequest = { service: url.searchParams.get('service'), scopes, user: basic?.user ?? null, granted: [], status: 200 };
    this.requests.push(record);
    const refuse = (status: number, details: string) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details }));
    };
    if (record.service !== this.service) return refuse(400, `unknown service ${JSON.stringify(record.service)}`);
    const priv = this.opts.private;
    if (basic && !(priv && basic.user === priv.user && basic.password === priv.password)) return refuse(401, 'incorrect username or password');
    for (const scope of scopes) {
      const name = /^repository:(.+):[a-z,*]+$/.exec(scope)?.[1];
      if (name && (!priv?.repos.includes(name) || basic)) record.granted.push(name);
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, new Set(record.granted));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({
      token,
      access_token: token,
      expires_in: 300,
      issued_at: new Date().toISOString(),
    }));
  }

  /** Whether a /v2/ request may go on; if not, the 401 has been sent. */
  allow(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const repo = repositoryOf(path);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const granted = token ? this.tokens.get(token) : undefined;
    if (granted && (!repo || granted.has(repo))) return true;
    const error = !token ? '' : !granted ? ',error="invalid_token"' : ',error="insufficient_scope"';
    const scope = repo ? `,scope="repository:${repo}:pull"` : '';
    registryError(res, 401, 'UNAUTHORIZED', 'authentication required', {
      'WWW-Authenticate': `Bearer realm="${this.realm()}",service="${this.service}"${scope}${error}`,
    });
    return false;
  }
}

/** NAME of /v2/NAME/manifests/..., /v2/NAME/blobs/..., /v2/NAME/tags/list (NAME may hold slashes). */
export function repositoryOf(path: string): string | null {
  return /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(path)?.[1] ?? null;
}

function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const encoded = /^Basic (\S+)$/.exec(header ?? '')?.[1];
  if (!encoded) return null;
  const text = Buffer.from(encoded, 'base64').toString();
  const colon = text.indexOf(':');
  return colon === -1 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
