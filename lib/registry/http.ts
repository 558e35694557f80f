// HTTP for the registry client: GET only, one request at a time (redirects
// and authentication are the client's), over node:http and node:https.
//
// Why not fetch, which both runtimes have: a registry client needs TLS
// verification turned off for insecure registries (--tls-verify=false, and
// loopback ones) and the system's CA bundle for the others. Node 20's fetch
// takes TLS options only through an undici Agent (`dispatcher`), which Node
// does not expose (it needs the undici package); its only other switch is
// the process-wide NODE_TLS_REJECT_UNAUTHORIZED. Deno's fetch takes extra CA
// certificates (Deno.createHttpClient({ caCerts })) but has no way to skip
// verification short of the --unsafely-ignore-certificate-errors flag for
// the whole process. node:https takes `ca` and `rejectUnauthorized` per
// connection and behaves the same under both (tried: Node 20.20, Deno 2.9).
// It also never follows redirects by itself, which the client needs so that
// a blob's redirect to a CDN does not carry the registry's Authorization.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { MinipodError, wrapError } from '../errors.ts';
import type { Env } from './credentials.ts';

export interface HttpResponse {
  status: number;
  /** `404 Not Found`. */
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The body as it arrives; fails when no byte comes for the stall timeout. Read it to the end, or call discard(). */
  body: AsyncIterable<Uint8Array>;
  /** Drop the body unread, and the connection with it. */
  discard(): void;
}

export interface Timeouts {
  /** From the request to the response's headers (connect and TLS included). */
  timeoutMs: number;
  /** The longest wait for the body's next bytes. There is no limit on the whole body. */
  stallTimeoutMs: number;
}

export interface TlsOptions {
  verify: boolean;
  /** PEM certificates to trust instead of the runtime's built-in roots. */
  ca?: string;
}

const LOOPBACK_V4 = /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** `host[:port]` is a loopback address: localhost, 127.0.0.0/8 or [::1]. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || LOOPBACK_V4.test(name);
}

export interface Endpoint {
  scheme: 'https' | 'http';
  verify: boolean;
}

/**
 * How to reach a registry, in order, as Docker does: HTTPS with the system's
 * CAs; for an insecure registry (a loopback one, which Docker treats as
 * insecure, or any with tlsVerify false) HTTPS without verification, then
 * plain HTTP if that connection fails.
 */
export function endpointsFor(host: string, tlsVerify: boolean): Endpoint[] {
  if (tlsVerify && !isLoopbackHost(host)) return [{ scheme: 'https', verify: true }];
  return [
    { scheme: 'https', verify: false },
    { scheme: 'http', verify: false },
  ];
}

// Where distributions keep the system's CA bundle (the list Go's crypto/x509 reads).
const CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** The system's CAs (`$SSL_CERT_FILE` if set), or undefined to keep the runtime's built-in roots where there is no bundle. */
function systemCA(env: Env): string | undefined {
  if (env.SSL_CERT_FILE) {
    try {
      return readFileSync(env.SSL_CERT_FILE, 'utf8');
    } catch (err) {
      throw wrapError(`read SSL_CERT_FILE ${env.SSL_CERT_FILE}`, err);
    }
  }
  for (const file of CA_BUNDLES) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      // the next place
    }
  }
  return undefined;
}

/** Keep-alive connections per kind, for one client's life: layers come from the same host. */
export class Transport {
  readonly #tlsVerify: boolean;
  readonly #env: Env;
  readonly #timeouts: Timeouts;
  readonly #agents = new Map<string, http.Agent>();

  constructor(opts: { tlsVerify: boolean; env: Env } & Timeouts) {
    this.#tlsVerify = opts.tlsVerify;
    this.#env = opts.env;
    this.#timeouts = { timeoutMs: opts.timeoutMs, stallTimeoutMs: opts.stallTimeoutMs };
  }

  /** GET `url` under the transport policy: certificates verified unless the host is insecure; plain HTTP only to an insecure host. */
  get(url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    const insecure = !this.#tlsVerify || isLoopbackHost(url.host);
    if (url.protocol === 'http:' && !insecure) {
      return Promise.reject(new MinipodError(`plain HTTP to ${url.host} refused: only loopback registries may be plain HTTP, unless --tls-verify=false`));
    }
    return send(url, headers, this.#timeouts, url.protocol === 'https:' ? this.#agent(!insecure) : this.#agent(undefined));
  }

  #agent(verify: boolean | undefined): http.Agent {
    const kind = verify === undefined ? 'http' : verify ? 'verified' : 'unverified';
    let agent = this.#agents.get(kind);
    if (!agent) {
      agent = verify === undefined ? new http.Agent({ keepAlive: true }) : httpsAgent({ verify, ca: verify ? systemCA(this.#env) : undefined });
      this.#agents.set(kind, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

export function httpsAgent(tls: TlsOptions): https.Agent {
  return new https.Agent({ keepAlive: true, rejectUnauthorized: tls.verify, ...(tls.ca === undefined ? {} : { ca: tls.ca }) });
}

/** One GET, no redirect followed. Rejects with the runtime's error (see describeNetworkError) when no response comes. */
export function send(url: URL, headers: Record<string, string>, timeouts: Timeouts, agent: http.Agent, retry = true): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { headers, agent });
    const timer = setTimeout(() => req.destroy(timeoutError(`no response in ${seconds(timeouts.timeoutMs)}`)), timeouts.timeoutMs);
    let answered = false;
    // Still listening after the response: an error then fails the body, and must not go unhandled here.
    req.on('error', (err) => {
      clearTimeout(timer);
      // A kept-alive connection the server closed while it sat idle fails the
      // first request sent on it (while a layer was being unpacked, say): the
      // case Node documents req.reusedSocket for. A GET is safe to send again.
      if (retry && !answered && req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        resolve(send(url, headers, timeouts, agent, false));
      } else {
        reject(err);
      }
    });
    req.on('response', (res) => {
      answered = true;
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      resolve({
        status,
        statusText: `${status} ${res.statusMessage || http.STATUS_CODES[status] || ''}`.trim(),
        headers: res.headers,
        body: guarded(res, timeouts.stallTimeoutMs),
        discard: () => res.destroy(),
      });
    });
    req.end();
  });
}

/**
 * The body, failing when nothing arrives for `stallMs` while it is awaited:
 * time the reader spends elsewhere (writing to disk) is not the server
 * stalling.
 */
async function* guarded(res: http.IncomingMessage, stallMs: number): AsyncGenerator<Uint8Array> {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let done = false;
  try {
    for (;;) {
      const timer = setTimeout(() => res.destroy(timeoutError(`no data for ${seconds(stallMs)}`)), stallMs);
      let step: IteratorResult<Uint8Array>;
      try {
        step = await chunks.next();
      } finally {
        clearTimeout(timer);
      }
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!done) res.destroy();
  }
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'MINIPOD_TIMEOUT' });
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

const TLS_CODE = /^(?:CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH$)/;

/** Whether the connection failed at TLS (a certificate, or a server that does not speak TLS). */
function isTlsError(err: unknown): boolean {
  return TLS_CODE.test(String((err as NodeJS.ErrnoException).code ?? ''));
}

/** A network failure as words a user can act on. */
export function describeNetworkError(err: unknown): string {
  if (err instanceof MinipodError) return err.message;
  const { code = '', message } = err as NodeJS.ErrnoException;
  if (isTlsError(err)) return `TLS: ${message.split('\n')[0]} (a registry without a valid certificate needs --tls-verify=false)`;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'no such host';
    case 'EAI_AGAIN':
      return 'cannot resolve the host name now (DNS)';
    case 'ECONNRESET':
      return message === 'aborted' ? 'connection closed before the end of the body' : 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    default:
      return message;
  }
}
