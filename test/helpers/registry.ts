// A real registry for the image tests: Debian's docker-registry
// (distribution 2.8.2, the reference `registry:2`) on 127.0.0.1 with a
// store in a fresh temp dir. Use it as
//
//   const registry = await startRegistry();
//   try { ... registry.host ... } finally { await registry.stop(); }
//
// stop() ends the process by its pid and removes the temp dir. A test that
// forgets, a run that calls process.exit first, dies of an uncaught error
// or of SIGINT/SIGTERM/SIGHUP, is covered by hooks that SIGKILL what is
// left and remove its dir; only a SIGKILL of the test runner itself leaves
// a registry behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeno } from '../../lib/sys/host.ts';

const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface RegistryOptions {
  /** Basic auth through an htpasswd file (distribution accepts it over plain HTTP). */
  htpasswd?: { user: string; password: string };
  /** HTTPS with a self-signed certificate for 127.0.0.1 (its PEM is `certFile`). */
  tls?: boolean;
  /** A port to try first (a free one is picked when it is taken or not given). */
  port?: number;
  /** How long to wait for /v2/ to answer; 10 s unless said. */
  readyTimeoutMs?: number;
}

export interface Registry {
  /** `127.0.0.1:PORT`, as an image reference names it. */
  host: string;
  /** `http://127.0.0.1:PORT` (https with tls). */
  url: string;
  pid: number;
  /** The temp dir holding the config, the store, and the htpasswd file and certificate when asked. */
  dir: string;
  /** The certificate's PEM file, with tls. */
  certFile?: string;
  /** What the registry wrote (warnings and errors; level warn), for a failure's message. */
  log(): string;
  /** SIGTERM, SIGKILL after 2 s, wait for the exit, remove the dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Registries started and not yet stopped: pid -> temp dir. */
const live = new Map<number, string>();
let exitHookSet = false;

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  setExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'minipod-registry-'));
  try {
    const auth = opts.htpasswd ? writeHtpasswd(dir, opts.htpasswd.user, opts.htpasswd.password) : null;
    const certFile = opts.tls ? writeCertificate(dir) : undefined;
    const attempts = 5;
    let lastLog = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = attempt === 0 && opts.port ? opts.port : await freePort();
      const started = await tryStart(dir, port, auth, certFile, opts.readyTimeoutMs ?? 10_000);
      if ('registry' in started) return started.registry;
      lastLog = started.log;
      // Another process took the port between freePort() and the registry's
      // bind: try another. Anything else is not going to get better.
      if (!/address already in use/.test(started.log)) break;
    }
    throw new Error(`docker-registry did not start: ${lastLog.trim().split('\n').slice(-5).join(' | ') || 'no output'}`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A port free on 127.0.0.1 a moment ago (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function tryStart(dir: string, port: number, auth: string | null, certFile: string | undefined, timeoutMs: number): Promise<{ registry: Registry } | { log: string }> {
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, config(dir, port, auth, certFile));
  // Its output goes to a file, not a pipe, and it is unref()ed: a test that
  // forgets stop() does not keep the runtime alive, and the exit hook ends it.
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  let finalLog: string | null = null;
  const log = () => finalLog ?? readFileSync(logFile, 'utf8');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const pid = child.pid;
  if (pid !== undefined) live.set(pid, dir);
  const scheme = certFile ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (async () => {
    await terminate(child, exited);
    if (pid !== undefined) live.delete(pid);
    finalLog = log();
    rmSync(dir, { recursive: true, force: true });
  })());

  const deadline = Date.now() + timeoutMs;
  let gone = false;
  const exitedEarly = exited.then(() => {
    gone = true;
    return false;
  });
  while (Date.now() < deadline && !gone && !spawnError) {
    // A registry that died (its port taken) is seen at once, not after the request's timeout.
    if (await Promise.race([answers(port, certFile), exitedEarly])) {
      return { registry: { host: `127.0.0.1:${port}`, url, pid: pid!, dir, certFile, log, stop } };
    }
    await sleep(20);
  }
  const why = spawnError
    ? `${REGISTRY_BIN}: ${(spawnError as Error).message} (install Debian's docker-registry)`
    : gone ? log() : `${log()}\n/v2/ did not answer within ${timeoutMs} ms`;
  await terminate(child, exited);
  if (pid !== undefined) live.delete(pid);
  return { log: why };
}

function config(dir: string, port: number, auth: string | null, certFile: string | undefined): string {
  // YAML written out by hand: it is small, and JSON would do as well (YAML is a superset).
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(dir, 'store'))}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    // Without a secret it logs a warning on every start and picks a random one.
    '  secret: minipod-test-secret',
  ];
  if (certFile) lines.push('  tls:', `    certificate: ${JSON.stringify(certFile)}`, `    key: ${JSON.stringify(join(dir, 'key.pem'))}`);
  if (auth) lines.push('auth:', '  htpasswd:', '    realm: minipod-test', `    path: ${JSON.stringify(auth)}`);
  return `${lines.join('\n')}\n`;
}

function writeHtpasswd(dir: string, user: string, password: string): string {
  // bcrypt is the only scheme distribution's htpasswd accepts.
  const r = spawnSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd -Bbn: ${r.error?.message ?? r.stderr.trim()} (install Debian's apache2-utils)`);
  const path = join(dir, 'htpasswd');
  writeFileSync(path, r.stdout);
  return path;
}

function writeCertificate(dir: string): string {
  const cert = join(dir, 'cert.pem');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req -x509: ${r.error?.message ?? r.stderr.trim()} (install Debian's openssl)`);
  return cert;
}

/** Whether GET /v2/ answers as a registry does: 200, or 401 when it wants credentials. */
function answers(port: number, certFile: string | undefined): Promise<boolean> {
  // node:http(s), not fetch: fetch cannot be told to trust one self-signed
  // certificate, and `ca` works on both runtimes.
  return new Promise((resolve) => {
    const url = `${certFile ? 'https' : 'http'}://127.0.0.1:${port}/v2/`;
    const options = { timeout: 1000, ...(certFile ? { ca: readFileSync(certFile) } : {}) };
    const req = (certFile ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** SIGTERM, then SIGKILL after 2 s; resolves once it has exited. */
async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    // exited and reaped just now: 'exit' is on its way
  }
  const timer = sleep(2000).then(() => 'late' as const);
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'late') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // as above
    }
    await exited;
  }
}

function setExitHook(): void {
  if (exitHookSet) return;
  exitHookSet = true;
  const cleanUp = () => {
    for (const [pid, dir] of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', cleanUp);
  // Deno emits no 'exit' when it dies of an uncaught error; a listener that
  // does not preventDefault() runs first, and Deno dies all the same.
  if (isDeno) {
    const target = globalThis as unknown as EventTarget;
    target.addEventListener('error', cleanUp);
    target.addEventListener('unhandledrejection', cleanUp);
  }
  // A signal's default action ends the runtime without 'exit': clean up,
  // then die of it as we would have. Whoever else listens for it has
  // chosen what happens instead (and 'exit' still comes if it exits).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      if (process.listenerCount(signal) > 0) return;
      cleanUp();
      process.kill(process.pid, signal);
    });
  }
}
