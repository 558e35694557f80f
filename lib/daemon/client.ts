import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinipodError } from '../errors.ts';
import { type Reply, type Request, socketPath } from './protocol.ts';

/** Whether a supervisor answers on `path`. */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The supervisor asked was gone, or went, before it answered: it had no request of ours to act on, or died with it. */
class SupervisorGone extends MinipodError {}

/** How a connection to a supervisor that is leaving (or gone) fails. */
const GONE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

function ask(path: string, req: Request): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(GONE.has(err.code ?? '') ? new SupervisorGone(`the supervisor on ${path} went away before it answered (${err.code})`, { cause: err }) : err);
    });
    socket.once('end', () => {
      try {
        resolve(JSON.parse(text) as Reply);
      } catch {
        reject(new SupervisorGone(`the supervisor on ${path} closed the connection without an answer (see supervisor.log there)`));
      }
    });
  });
}

function startSupervisor(root: string, [cmd, args]: [string, string[]]): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const log = openSync(`${root}/supervisor.log`, 'a', 0o600);
  // Its own session (setsid), and nothing tying it to this CLI: it outlives it.
  spawn(cmd, [...args, '--root', root, 'supervise'], { stdio: ['ignore', log, log], detached: true }).unref();
}

/** A supervisor that was leaving as it was asked is followed by a new one; one that keeps going away is a failure. */
const ATTEMPTS = 3;

/**
 * Ask the shared supervisor of `root`, starting it first if none answers:
 * `command` is how to run minipod itself (the runtime and its entry point).
 */
export async function request(root: string, req: Request, command: [string, string[]]): Promise<Reply & { ok: true }> {
  const path = socketPath(root);
  for (let attempt = 1; ; attempt++) {
    if (!(await answers(path))) {
      startSupervisor(root, command);
      for (const end = Date.now() + 10_000; !(await answers(path)); await sleep(20)) {
        if (Date.now() > end) throw new MinipodError(`no supervisor answers on ${path} (see ${root}/supervisor.log)`);
      }
    }
    let reply: Reply;
    try {
      reply = await ask(path, req);
    } catch (err) {
      // Its last pod ended between its answer and our request: it is leaving, and takes none.
      if (err instanceof SupervisorGone && attempt < ATTEMPTS) continue;
      throw err;
    }
    if (!reply.ok) throw new MinipodError(reply.error, { exitCode: reply.exitCode });
    return reply;
  }
}
