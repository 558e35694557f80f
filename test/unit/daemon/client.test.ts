// request(): a shared supervisor that leaves between answering the CLI's
// probe and reading its request (its last pod has just ended) takes no
// request; the CLI starts a new one and asks it instead.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from '../../../lib/daemon/client.ts';
import { socketPath } from '../../../lib/daemon/protocol.ts';
import { isDeno } from '../../../lib/sys/host.ts';
import { rejects } from '../../helpers/assert.ts';

/** A new supervisor, as `minipod --root ROOT supervise` would be: `onRequest` is what it does with the one request it takes. */
const successor = (onRequest: string) => `
import { appendFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import process from 'node:process';
const root = process.argv[process.argv.indexOf('--root') + 1];
appendFileSync(root + '/started', '.');
const path = root + '/supervisor.sock';
rmSync(path, { force: true });
const server = createServer((socket) => socket.once('data', () => {
  server.close();
  ${onRequest};
}));
server.listen(path);
`;
const ANSWERS = successor("socket.end(JSON.stringify({ ok: true, id: 'new' }) + '\\n')");
const LEAVES_TOO = successor('socket.destroy()');

function withRoot(fn: (root: string, command: (script: string) => [string, string[]]) => Promise<void>): () => Promise<void> {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'minipod-client-'));
    const root = join(base, 'state');
    mkdirSync(root);
    const command = (script: string): [string, string[]] => {
      const file = join(base, 'supervisor.mjs');
      writeFileSync(file, script);
      return [process.execPath, isDeno ? ['run', '-A', file] : [file]];
    };
    try {
      await fn(root, command);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

/** The supervisor that is leaving: `onConnection` gets the connection count (1: the probe) and the socket. */
function leaving(root: string, onConnection: (n: number, server: Server, socket: Socket) => void): Promise<Server> {
  let n = 0;
  const server = createServer((socket) => onConnection(++n, server, socket));
  return new Promise((resolve) => server.listen(socketPath(root), () => resolve(server)));
}

const stop = { op: 'stop', id: 'abc' } as const;

test('a supervisor that closes unanswered as it leaves: a new one is started and answers', withRoot(async (root, command) => {
  await leaving(root, (n, server, socket) => {
    if (n === 1) return; // the probe
    server.close();
    socket.destroy();
  });
  const reply = await request(root, stop, command(ANSWERS));
  assert.equal(reply, { ok: true, id: 'new' });
  assert.is(readFileSync(join(root, 'started'), 'utf8'), '.', 'one new supervisor');
}));

test('a supervisor gone between its answer to the probe and the request (ENOENT/ECONNREFUSED): a new one answers', withRoot(async (root, command) => {
  await leaving(root, (n, server, socket) => {
    socket.destroy();
    if (n === 1) server.close();
  });
  const reply = await request(root, stop, command(ANSWERS));
  assert.equal(reply, { ok: true, id: 'new' });
  assert.is(readFileSync(join(root, 'started'), 'utf8'), '.', 'one new supervisor');
}));

test('supervisors that keep leaving: a bounded number of tries, then why', withRoot(async (root, command) => {
  await leaving(root, (n, server, socket) => {
    if (n === 1) return;
    server.close();
    socket.destroy();
  });
  await rejects(request(root, stop, command(LEAVES_TOO)), /^the supervisor on .* (closed the connection without an answer|went away before it answered \(ECONNRESET\))/);
  assert.is(readFileSync(join(root, 'started'), 'utf8'), '..', 'two new supervisors tried after the one leaving, then no more');
}));

test.run();
