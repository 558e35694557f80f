// A registry that lies, for the pull tests: an HTTP server on 127.0.0.1 in
// front of the real one (registry.ts) that forwards /v2/ requests and can
// be told, per path pattern, to misbehave in the ways real registries and
// the networks in front of them do. It counts every request, so a test can
// check that only a new layer was fetched, or nothing twice. Use it as
//
//   const proxy = await startFaultProxy({ upstream: registry.url });
//   try {
//     proxy.fault(/\/blobs\//, { kind: 'truncate', after: 100 }, { times: 1 });
//     ... pull from proxy.host ...
//   } finally { await proxy.stop(); }
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { BlobMirror, type MirrorRequest } from './blob-mirror.ts';
import { defaultError, registryError } from './registry-errors.ts';
import { TokenAuth, type BearerOptions, type TokenRequest } from './token-auth.ts';

export type Fault =
  /** The body with one byte in its middle inverted: same length, wrong digest. */
  | { kind: 'flip' }
  /** A clean response BY bytes (1 unless said) shorter than the blob, Content-Length saying so. */
  | { kind: 'short'; by?: number }
  /** A clean response BY bytes (1 unless said) longer than the blob (and its descriptor), Content-Length saying so. */
  | { kind: 'long'; by?: number }
  /** The whole blob's Content-Length, then AFTER bytes of it, then the connection closed. */
  | { kind: 'truncate'; after: number }
  /** STATUS with a registry's JSON errors body (distribution's code and message for it unless said). */
  | { kind: 'status'; status: number; code?: string; message?: string }
  /** A 307 to the blob mirror on 127.0.0.2, which serves the body, as registries send blobs to a CDN. */
  | { kind: 'redirect' }
  /** The status and headers, then nothing, until the client closes or the proxy stops. */
  | { kind: 'stall' }
  /** The body at BYTESPERSECOND, in pieces every 50 ms: time for a test to kill a pull mid-layer. */
  | { kind: 'slow'; bytesPerSecond: number };

export interface ProxyOptions {
  /** The registry's URL (http or https; a self-signed certificate is accepted). */
  upstream: string;
  /** Gate every /v2/ request behind a bearer token from the proxy's own /token endpoint. */
  bearer?: BearerOptions;
}

export interface ProxyRequest {
  method: string;
  /** Without the query. */
  path: string;
  status: number;
  fault: Fault['kind'] | null;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  url: string;
  /** Every request, in order of arrival (the /token ones too). */
  readonly requests: ProxyRequest[];
  /** What the token endpoint was asked, with `bearer`. */
  readonly tokenRequests: TokenRequest[];
  /** What the 127.0.0.2 blob mirror was asked. */
  readonly mirrorRequests: MirrorRequest[];
  /**
   * From now on, requests whose path PATTERN matches (of METHOD, any unless
   * said) get FAULT, the first TIMES of them (all unless said). Only a
   * status fault applies to a HEAD; the others change a GET's body.
   */
  fault(pattern: RegExp, fault: Fault, opts?: { method?: string; times?: number }): void;
  clearFaults(): void;
  /** How many requests of METHOD (GET unless said) had a path matching PATTERN. */
  count(pattern: RegExp, method?: string): number;
  resetCounts(): void;
  stop(): Promise<void>;
}

interface Rule {
  pattern: RegExp;
  method: string | undefined;
  fault: Fault;
  left: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

export async function startFaultProxy(opts: ProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  const rules: Rule[] = [];
  const requests: ProxyRequest[] = [];
  const sockets = new Set<Socket>();
  const mirror = new BlobMirror();
  const agent = upstream.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, rejectUnauthorized: false }) : new HttpAgent({ keepAlive: true });
  let port = 0;
  const auth = opts.bearer ? new TokenAuth(opts.bearer, () => `http://127.0.0.1:${port}/token`) : null;

  // Only a status fault applies to any method; the others change a body, so a GET's.
  const takeFault = (method: string, path: string): Fault | null => {
    const applies = (r: Rule) => (r.fault.kind === 'status' || method === 'GET') && (!r.method || r.method === method);
    const rule = rules.find((r) => r.left > 0 && applies(r) && r.pattern.test(path));
    if (!rule) return null;
    rule.left--;
    return rule.fault;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record: ProxyRequest = { method, path, status: 0, fault: null };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    res.on('close', () => (record.status ||= res.statusCode));
    if (auth && path === '/token') return auth.issue(req, res);
    if (path !== '/v2' && !path.startsWith('/v2/')) return registryError(res, 404, 'NOT_FOUND', 'not a registry path');
    if (auth && !auth.allow(req, res, path)) return;
    const fault = takeFault(method, path);
    if (fault?.kind === 'status') {
      record.fault = fault.kind;
      const d = defaultError(fault.status, path);
      return registryError(res, fault.status, fault.code ?? d.code, fault.message ?? d.message, d.headers);
    }
    const up = await forward(upstream, agent, req, auth !== null);
    // A GET the registry refuses passes unchanged (its fault is used up all the same).
    if (!fault || up.statusCode !== 200) {
      res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
      up.pipe(res);
      return;
    }
    record.fault = fault.kind;
    if (fault.kind === 'stall') {
      up.destroy();
      res.writeHead(200, endToEnd(up.headers));
      res.flushHeaders();
      return;
    }
    const body = await readAll(up);
    // Each fault below says its own Content-Length.
    const { 'content-length': _, ...headers } = endToEnd(up.headers);
    const send = (data: Buffer) => {
      res.writeHead(200, { ...headers, 'Content-Length': data.length });
      res.end(data);
    };
    switch (fault.kind) {
      case 'flip': {
        const flipped = Buffer.from(body);
        const middle = flipped.length >> 1;
        if (flipped.length) flipped[middle] = flipped[middle]! ^ 0xff;
        return send(flipped);
      }
      case 'short':
        return send(body.subarray(0, Math.max(0, body.length - (fault.by ?? 1))));
      case 'long':
        return send(Buffer.concat([body, Buffer.alloc(fault.by ?? 1, 0x41)]));
      case 'redirect':
        res.writeHead(307, {
          Location: mirror.offer(body, String(headers['content-type'] ?? 'application/octet-stream')),
          'Content-Length': 0,
          'Docker-Distribution-Api-Version': 'registry/2.0',
        });
        return void res.end();
      case 'truncate':
        res.writeHead(200, { ...headers, 'Content-Length': body.length });
        res.flushHeaders();
        // Closed once the N bytes are with the kernel, so the client sees them, then the end.
        if (fault.after > 0) res.write(body.subarray(0, fault.after), () => res.socket?.destroy());
        else setImmediate(() => res.socket?.destroy());
        return;
      case 'slow':
        return trickle(res, { ...headers, 'Content-Length': body.length }, body, fault.bytesPerSecond);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) registryError(res, 502, 'UNKNOWN', `fault proxy: ${err.message}`);
      else res.socket?.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await mirror.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;

  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    tokenRequests: auth?.requests ?? [],
    mirrorRequests: mirror.requests,
    fault(pattern, fault, o = {}) {
      rules.push({ pattern, method: o.method, fault, left: o.times ?? Infinity });
    },
    clearFaults() {
      rules.length = 0;
    },
    count(pattern, method = 'GET') {
      return requests.filter((r) => r.method === method && pattern.test(r.path)).length;
    },
    resetCounts() {
      requests.length = 0;
    },
    async stop() {
      // Stalled and slow answers never end by themselves: end their sockets.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mirror.stop();
      agent.destroy();
    },
  };
}

/** The same request to the registry. With the token gate, its bearer token is the proxy's business, not the registry's. */
function forward(upstream: URL, agent: HttpAgent, req: IncomingMessage, dropAuthorization: boolean): Promise<IncomingMessage> {
  const headers = endToEnd(req.headers);
  if (dropAuthorization) delete headers.authorization;
  const request = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const out = request(new URL(req.url ?? '/', upstream), { method: req.method, headers, agent }, resolve);
    out.on('error', (err) => reject(new Error(`the registry at ${upstream.host}: ${err.message}`)));
    req.pipe(out);
  });
}

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function trickle(res: ServerResponse, headers: Record<string, string | string[] | number>, body: Buffer, bytesPerSecond: number): void {
  const piece = Math.max(1, Math.round(bytesPerSecond / 20));
  let sent = 0;
  res.writeHead(200, headers);
  res.flushHeaders();
  const timer = setInterval(() => {
    res.write(body.subarray(sent, sent + piece));
    sent += piece;
    if (sent >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, 50);
  res.on('close', () => clearInterval(timer));
}
