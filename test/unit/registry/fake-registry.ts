// An in-process registry on loopback, with just enough of the distribution
// API for the client's tests: manifests and blobs by name and reference,
// Range, Basic or Bearer auth (its own token endpoint at /token), redirects
// of blobs elsewhere, and a hook to answer any request some other way.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  url: string;
  authorization: string | undefined;
  range: string | undefined;
}

export type Auth = { kind: 'none' } | { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; user?: string; password?: string };

export interface Stored {
  mediaType: string;
  bytes: Uint8Array;
  digest: string;
}

export const digestOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class FakeRegistry {
  readonly requests: SeenRequest[] = [];
  /** name@reference -> what GET /v2/<name>/manifests/<reference> serves. */
  readonly manifests = new Map<string, Stored>();
  blobs = new Map<string, Uint8Array>();
  auth: Auth = { kind: 'none' };
  readonly tokens = new Set<string>();
  tokensIssued = 0;
  /** Where a blob is redirected to, if anywhere. */
  redirectBlob: ((digest: string) => string | undefined) | undefined;
  /** Answer a request before the registry does; true when it did. */
  intercept: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly scheme: 'http' | 'https',
  ) {
    server.on('request', (req, res) => this.handle(req, res));
  }

  static async start(address = '127.0.0.1', tls?: { key: string; cert: string }): Promise<FakeRegistry> {
    const registry = new FakeRegistry(tls ? https.createServer(tls) : http.createServer(), tls ? 'https' : 'http');
    await new Promise<void>((resolve) => registry.server.listen(0, address, resolve));
    return registry;
  }

  get host(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.requests.length = 0;
    this.manifests.clear();
    this.blobs.clear();
    this.tokens.clear();
    this.auth = { kind: 'none' };
    this.tokensIssued = 0;
    this.redirectBlob = undefined;
    this.intercept = undefined;
  }

  addBlob(content: string | Uint8Array, mediaType = 'application/octet-stream'): { mediaType: string; digest: string; size: number } {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Serve `doc` as `name:reference` for each reference given, and by its digest. */
  addManifest(name: string, references: string[], mediaType: string, doc: unknown): Stored & { size: number } {
    const bytes = Buffer.from(JSON.stringify(doc));
    const stored = { mediaType, bytes, digest: digestOf(bytes) };
    for (const reference of [...references, stored.digest]) this.manifests.set(`${name}@${reference}`, stored);
    return { ...stored, size: bytes.length };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    this.requests.push({ url: url.pathname + url.search, authorization: req.headers.authorization, range: req.headers.range });
    if (this.intercept?.(req, res)) return;
    if (url.pathname === '/token') return this.token(req, res);
    if (!this.authorized(req, res, url.pathname)) return;
    if (url.pathname === '/v2/') return json(res, 200, {});
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) return failure(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
    const [, name, kind, reference] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const stored = this.manifests.get(`${name}@${reference}`);
      if (!stored) return failure(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'Content-Type': stored.mediaType, 'Docker-Content-Digest': stored.digest, 'Content-Length': stored.bytes.length });
      return void res.end(stored.bytes);
    }
    const location = this.redirectBlob?.(reference);
    if (location) {
      res.writeHead(307, { Location: location });
      return void res.end();
    }
    const blob = this.blobs.get(reference);
    if (!blob) return failure(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (from > 0) {
      res.writeHead(206, { 'Content-Length': blob.length - from, 'Content-Range': `bytes ${from}-${blob.length - 1}/${blob.length}` });
      return void res.end(blob.subarray(from));
    }
    res.writeHead(200, { 'Content-Length': blob.length, 'Docker-Content-Digest': reference });
    res.end(blob);
  }

  private authorized(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    const given = req.headers.authorization;
    if (this.auth.kind === 'none') return true;
    if (this.auth.kind === 'basic') {
      if (given === basic(this.auth.user, this.auth.password)) return true;
      res.setHeader('WWW-Authenticate', 'Basic realm="fake registry"');
    } else {
      if (given?.startsWith('Bearer ') && this.tokens.has(given.slice(7))) return true;
      const name = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(path)?.[1];
      const scope = name ? `,scope="repository:${name}:pull"` : '';
      res.setHeader('WWW-Authenticate', `Bearer realm="${this.scheme}://${this.host}/token",service="fake, registry"${scope}`);
    }
    failure(res, 401, 'UNAUTHORIZED', 'authentication required');
    return false;
  }

  private token(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.auth.kind === 'bearer' && this.auth.user !== undefined && req.headers.authorization !== basic(this.auth.user, this.auth.password ?? '')) {
      return json(res, 401, { details: 'incorrect username or password' });
    }
    const token = `tok-${++this.tokensIssued}`;
    this.tokens.add(token);
    json(res, 200, { token, expires_in: 300 });
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  res.end(bytes);
}

function failure(res: http.ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { errors: [{ code, message, detail: null }] });
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** An image of `layers` (any bytes: the client does not unpack) for `platform`, served as `name:tag`. */
export function addImage(
  registry: FakeRegistry,
  name: string,
  tags: string[],
  opts: { layers: string[]; platform?: { os: string; architecture: string; variant?: string }; docker?: boolean },
) {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerType = opts.docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip';
  const layers = opts.layers.map((content) => registry.addBlob(content, layerType));
  const config = registry.addBlob(
    JSON.stringify({ ...platform, config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }),
    opts.docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json',
  );
  const mediaType = opts.docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifest = registry.addManifest(name, tags, mediaType, { schemaVersion: 2, mediaType, config, layers });
  return { manifest, config, layers, platform };
}
