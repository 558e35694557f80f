// A client of the OCI distribution API for one image reference: resolve the
// reference to a manifest for a platform (through an index if there is one),
// with its config, then stream its blobs. Every document it returns has been
// checked against its digest; blobs are streamed unchecked, for the caller
// (the store) to hash while it writes them.
//
//   resolve: GET /v2/<path>/manifests/<tag|digest>   index? -> the platform's entry
//            GET /v2/<path>/manifests/<digest>       the manifest
//            GET /v2/<path>/blobs/<config digest>    the config: its platform must run here
//   blob:    GET /v2/<path>/blobs/<digest>           redirects followed, to a CDN without Authorization
//
// A 401 is answered as docker does: a Bearer challenge by a token from its
// realm (anonymous, or with the user's credentials as Basic), a Basic one by
// the credentials themselves; the token is kept for the client's life.
import { Buffer } from 'node:buffer';
import { MinipodError } from '../errors.ts';
import { isDigest, sha256 } from '../image/digest.ts';
import { type Descriptor, type Index, MANIFEST_ACCEPT, type Manifest, configPlatform, parseDocument } from '../image/manifest.ts';
import { type Platform, chooseManifest, formatPlatform, imageEntries, runsOn } from '../image/platform.ts';
import { type Reference, canonicalName } from '../image/reference.ts';
import { isObject } from '../spec/json.ts';
import { type Challenge, basicAuthorization, parseChallenges, parseTokenResponse, tokenURL } from './auth.ts';
import { type CredentialSearch, type Env, findCredentials } from './credentials.ts';
import { type HttpResponse, Transport, describeNetworkError, endpointsFor } from './http.ts';

export type { Descriptor } from '../image/manifest.ts';

export class RegistryError extends MinipodError {
  /** The registry's HTTP status, when the failure is its answer (404: not there; 401: not allowed). */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = options.status;
  }
}

export interface Document {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

export interface ResolvedImage {
  reference: Reference;
  manifest: Document;
  /** The index or manifest list the manifest was chosen from, if the reference named one. */
  index?: Document;
  config: Descriptor;
  /** The config's bytes, checked against config.digest. */
  configBytes: Uint8Array;
  layers: Descriptor[];
  /** The platform of the image: the index entry's, else the config's. */
  platform: Platform;
}

export interface BlobStream {
  body: AsyncIterable<Uint8Array>;
  /** Bytes in the body, when the registry says (Content-Length). */
  length: number | null;
  /** Where in the blob the body starts: the offset asked for, or 0 if the registry sent it all. */
  offset: number;
}

export interface RegistryClientOptions {
  /** false: HTTPS without certificate checks, then plain HTTP, for any registry (podman's --tls-verify=false). Default true. */
  tlsVerify?: boolean;
  /** The platform to choose from an index, and that the image's config must run on. */
  platform: Platform;
  /** Where credential files and SSL_CERT_FILE are found: process.env, or a test's own. */
  env: Env;
  /** From a request to its response's headers. Default 30 s. */
  fetchTimeoutMs?: number;
  /** The longest silence within a body. Default 60 s. */
  stallTimeoutMs?: number;
}

/** More than any real manifest, index or config (containerd's limit for manifests is the same). */
const MAX_DOCUMENT = 4 << 20;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'minipod';

export class RegistryClient {
  readonly #ref: Reference;
  readonly #name: string;
  /** host[:port] of the API: Docker Hub's is not docker.io. */
  readonly #host: string;
  readonly #tlsVerify: boolean;
  readonly #platform: Platform;
  readonly #env: Env;
  readonly #transport: Transport;
  #base: Promise<URL> | undefined;
  /** The Authorization the registry last asked for, sent to its origin only. */
  #authorization: string | undefined;
  readonly #tokens = new Map<string, Promise<string>>();
  #credentials: CredentialSearch | undefined;

  constructor(ref: Reference, opts: RegistryClientOptions) {
    this.#ref = ref;
    this.#name = canonicalName(ref);
    this.#host = ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
    this.#tlsVerify = opts.tlsVerify ?? true;
    this.#platform = opts.platform;
    this.#env = opts.env;
    this.#transport = new Transport({
      tlsVerify: this.#tlsVerify,
      env: opts.env,
      timeoutMs: opts.fetchTimeoutMs ?? 30_000,
      stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
    });
  }

  async resolve(): Promise<ResolvedImage> {
    const want = this.#platform;
    const top = await this.#manifest(this.#ref.digest ?? this.#ref.tag ?? 'latest');
    let chosen = top;
    let platform: Platform | undefined;
    if ('index' in top.parsed) {
      const { manifests } = top.parsed.index;
      const entry = chooseManifest(manifests, want);
      if (!entry) {
        const has = [...new Set(imageEntries(manifests).map((e) => formatPlatform(e.platform)))];
        throw this.#error(`no image for ${formatPlatform(want)} in index ${top.digest} (it has ${has.join(', ') || 'no image with a platform'}; --platform chooses another)`);
      }
      chosen = await this.#manifest(entry.digest, entry);
      platform = entry.platform;
    }
    if ('index' in chosen.parsed) throw this.#error(`manifest ${chosen.digest}: an index within an index, which minipod does not follow`);
    const parsed = chosen.parsed.manifest;
    const configBytes = await this.#config(parsed.config);
    let configured: Platform;
    try {
      configured = configPlatform(configBytes, `config ${parsed.config.digest}`);
    } catch (err) {
      throw this.#error((err as Error).message, { cause: err });
    }
    if (!runsOn(configured, want)) {
      throw this.#error(`the image is for ${formatPlatform(configured)}, which does not run as ${formatPlatform(want)} (--platform chooses another)`);
    }
    return {
      reference: this.#ref,
      manifest: document(chosen),
      ...(chosen === top ? {} : { index: document(top) }),
      config: parsed.config,
      configBytes,
      layers: parsed.layers,
      platform: platform ?? configured,
    };
  }

  /**
   * A blob's body as it arrives, from `offset` if given (a Range request:
   * when the registry ignores it, `offset` in the result is 0). The caller
   * checks digest and size, and reads the body to its end or stops iterating.
   */
  async blob(d: Descriptor, opts: { offset?: number } = {}): Promise<BlobStream> {
    const offset = opts.offset ?? 0;
    const { res, url } = await this.#get(`blobs/${d.digest}`, offset > 0 ? { Range: `bytes=${offset}-` } : {});
    let start = 0;
    if (res.status === 206) {
      start = Number(/^bytes (\d+)-/.exec(String(res.headers['content-range']))?.[1] ?? NaN);
      if (start !== offset) {
        res.discard();
        throw this.#error(`GET ${url}: asked for bytes from ${offset}, got Content-Range ${res.headers['content-range']}`);
      }
    }
    const length = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
    return { body: this.#body(res, `GET ${url}`), length: Number.isSafeInteger(length) ? length : null, offset: start };
  }

  /** Close kept-alive connections (they do not keep the process alive, but a test's server waits for them). */
  close(): void {
    this.#transport.close();
  }

  async #manifest(reference: string, listed?: Descriptor): Promise<Fetched> {
    const { res, url } = await this.#get(`manifests/${reference}`, { Accept: MANIFEST_ACCEPT.join(', ') });
    const bytes = await this.#readAll(res, `GET ${url}`);
    const digest = sha256(bytes);
    const what = `manifest ${reference}`;
    if (isDigest(reference) && digest !== reference) throw this.#error(`${what}: the registry sent content of digest ${digest}`);
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && isDigest(claimed) && claimed !== digest) {
      throw this.#error(`${what}: Docker-Content-Digest says ${claimed}, the content is ${digest}`);
    }
    if (listed && bytes.length !== listed.size) throw this.#error(`${what}: ${bytes.length} bytes, the index says ${listed.size}`);
    const served = header(res, 'content-type')?.split(';')[0]?.trim();
    try {
      return { digest, bytes, parsed: parseDocument(bytes, what, listed?.mediaType ?? served) };
    } catch (err) {
      throw this.#error((err as Error).message, { cause: err });
    }
  }

  /** The config blob, read whole and checked. */
  async #config(d: Descriptor): Promise<Uint8Array> {
    const what = `config ${d.digest}`;
    if (d.size > MAX_DOCUMENT) throw this.#error(`${what}: ${d.size} bytes, more than the ${MAX_DOCUMENT} minipod reads`);
    const { res, url } = await this.#get(`blobs/${d.digest}`, {});
    const bytes = await this.#readAll(res, `GET ${url}`);
    if (bytes.length !== d.size) throw this.#error(`${what}: ${bytes.length} bytes, the manifest says ${d.size}`);
    const digest = sha256(bytes);
    if (digest !== d.digest) throw this.#error(`${what}: the registry sent content of digest ${digest}`);
    return bytes;
  }

  /**
   * GET /v2/<path>/<rest> on the registry: redirects followed (up to 5, the
   * Authorization only to the registry's own origin), a 401 answered with
   * credentials or a token (twice at most: a kept token may have expired),
   * any other status but 2xx an error.
   */
  async #get(rest: string, headers: Record<string, string>): Promise<{ res: HttpResponse; url: URL }> {
    const base = await this.#baseURL();
    const first = new URL(`/v2/${this.#ref.path}/${rest}`, base);
    let url = first;
    let redirects = 0;
    let authorizations = 0;
    for (;;) {
      const own = url.origin === base.origin;
      const sent = own ? this.#authorization : undefined;
      const res = await this.#send(url, { 'User-Agent': USER_AGENT, ...headers, ...(sent ? { Authorization: sent } : {}) });
      const location = header(res, 'location');
      if (REDIRECTS.has(res.status) && location !== undefined) {
        res.discard();
        if (++redirects > MAX_REDIRECTS) throw this.#error(`GET ${first}: more than ${MAX_REDIRECTS} redirects (the last to ${location})`);
        url = new URL(location, url);
        continue;
      }
      if (res.status === 401 && own && authorizations++ < 2 && (await this.#authorize(res, sent))) continue;
      if (res.status >= 200 && res.status < 300) return { res, url };
      throw await this.#statusError(`GET ${url}`, res);
    }
  }

  async #send(url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    try {
      return await this.#transport.get(url, headers);
    } catch (err) {
      throw this.#error(`GET ${url}: ${describeNetworkError(err)}`, { cause: err });
    }
  }

  /** The registry's scheme: fixed for a secure one; for an insecure one the first of Docker's endpoints that connects. */
  #baseURL(): Promise<URL> {
    this.#base ??= this.#probe().catch((err: unknown) => {
      this.#base = undefined;
      throw err;
    });
    return this.#base;
  }

  async #probe(): Promise<URL> {
    const endpoints = endpointsFor(this.#host, this.#tlsVerify);
    if (endpoints.length === 1) return new URL(`${endpoints[0]!.scheme}://${this.#host}/`);
    const failures: string[] = [];
    for (const { scheme } of endpoints) {
      const url = new URL(`${scheme}://${this.#host}/v2/`);
      try {
        // Any answer, 401 included, says the scheme works; only a failed connection moves on.
        (await this.#transport.get(url, { 'User-Agent': USER_AGENT })).discard();
        return new URL(`${scheme}://${this.#host}/`);
      } catch (err) {
        failures.push(`GET ${url}: ${describeNetworkError(err)}`);
      }
    }
    throw this.#error(failures.join('; '));
  }

  /** Set the Authorization a 401 asks for; false when there is none better than what was sent. */
  async #authorize(res: HttpResponse, sent: string | undefined): Promise<boolean> {
    const challenges = parseChallenges(header(res, 'www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    try {
      if (bearer) {
        this.#authorization = `Bearer ${await this.#token(bearer, sent)}`;
      } else if (challenges.some((c) => c.scheme === 'basic')) {
        const credentials = this.#lookup().credentials;
        if (!credentials) return false;
        this.#authorization = basicAuthorization(credentials);
      } else {
        return false;
      }
    } catch (err) {
      res.discard();
      throw err;
    }
    if (this.#authorization === sent) return false;
    res.discard();
    return true;
  }

  /** A token for pulling this repository, one request per scope however many ask at once; a refused one asked for again. */
  async #token(challenge: Challenge, refused: string | undefined): Promise<string> {
    const scope = `repository:${this.#ref.path}:pull`;
    const key = `${challenge.params.realm} ${challenge.params.service} ${scope}`;
    const cached = this.#tokens.get(key);
    if (cached && refused !== undefined && `Bearer ${await cached.catch(() => '')}` === refused) this.#tokens.delete(key);
    let token = this.#tokens.get(key);
    if (!token) {
      token = this.#requestToken(challenge, scope);
      this.#tokens.set(key, token);
      token.catch(() => this.#tokens.delete(key));
    }
    return token;
  }

  async #requestToken(challenge: Challenge, scope: string): Promise<string> {
    let url: URL;
    try {
      url = tokenURL(challenge, scope);
    } catch (err) {
      throw this.#error((err as Error).message, { cause: err });
    }
    const credentials = this.#lookup().credentials;
    const res = await this.#send(url, { 'User-Agent': USER_AGENT, ...(credentials ? { Authorization: basicAuthorization(credentials) } : {}) });
    if (res.status < 200 || res.status >= 300) throw await this.#statusError(`GET ${url}`, res);
    const bytes = await this.#readAll(res, `GET ${url}`);
    try {
      return parseTokenResponse(bytes);
    } catch (err) {
      throw this.#error(`GET ${url}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The user's credentials for this repository, looked up when a registry first asks. */
  #lookup(): CredentialSearch {
    try {
      this.#credentials ??= findCredentials(this.#ref.domain, this.#ref.path, this.#env);
    } catch (err) {
      throw this.#error((err as Error).message, { cause: err });
    }
    return this.#credentials;
  }

  async #readAll(res: HttpResponse, context: string): Promise<Uint8Array> {
    const tooBig = () => this.#error(`${context}: more than the ${MAX_DOCUMENT} bytes minipod reads for a manifest, config or token`);
    if (Number(header(res, 'content-length') ?? 0) > MAX_DOCUMENT) {
      res.discard();
      throw tooBig();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.#body(res, context)) {
      total += chunk.length;
      if (total > MAX_DOCUMENT) throw tooBig();
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  /** The body, its failures (a reset, a stall) as RegistryErrors. */
  async *#body(res: HttpResponse, context: string): AsyncGenerator<Uint8Array> {
    try {
      yield* res.body;
    } catch (err) {
      throw this.#error(`${context}: ${describeNetworkError(err)}`, { cause: err });
    }
  }

  /** `GET url: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`, from the registry's `errors` list. */
  async #statusError(context: string, res: HttpResponse): Promise<RegistryError> {
    let detail = '';
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of res.body) {
        chunks.push(chunk);
        if ((total += chunk.length) > 65536) break;
      }
      detail = registryErrors(Buffer.concat(chunks));
    } catch {
      // the status alone then
    }
    res.discard();
    let hint = '';
    if (res.status === 401) {
      const { credentials, files, helper } = this.#lookup();
      hint = credentials
        ? ` (with the credentials of ${credentials.source})`
        : ` (no credentials for ${this.#ref.domain} in ${files.join(', ') || 'any auth file: set REGISTRY_AUTH_FILE or HOME'}${helper ? `; ${helper}, and minipod runs no credential helper` : ''})`;
    }
    return this.#error(`${context}: ${res.statusText}${detail ? `: ${detail}` : ''}${hint}`, { status: res.status });
  }

  #error(message: string, options: { status?: number; cause?: unknown } = {}): RegistryError {
    return new RegistryError(`pull ${this.#name}: ${message}`, options);
  }
}

function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

interface Fetched {
  digest: string;
  bytes: Uint8Array;
  parsed: { manifest: Manifest } | { index: Index };
}

function document(d: Fetched): Document {
  return { digest: d.digest, mediaType: 'index' in d.parsed ? d.parsed.index.mediaType : d.parsed.manifest.mediaType, bytes: d.bytes };
}

/** The distribution API's error body, `{"errors": [{"code": ..., "message": ...}]}`, as one line. */
function registryErrors(bytes: Uint8Array): string {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return '';
  }
  if (!isObject(doc)) return '';
  // Docker Hub's token server says {"details": "incorrect username or password"}.
  if (!Array.isArray(doc.errors)) return typeof doc.details === 'string' ? doc.details : '';
  return doc.errors
    .filter(isObject)
    .map((e) => [e.code, e.message].filter((s) => typeof s === 'string' && s !== '').join(': '))
    .filter((s) => s !== '')
    .join('; ');
}
