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

function ask(path: string, req: Request): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      try {
        resolve(JSON.parse(text) as Reply);
      } catch {
        reject(new MinipodError(`the supervisor on ${path} closed the connection without an answer (see supervisor.log there)`));
      }
    });
  });
}

/**
 * Ask the shared supervisor of `root`, starting it first if none answers:
 * `command` is how to run minipod itself (the runtime and its entry point).
 */
export async function request(root: string, req: Request, command: [string, string[]]): Promise<Reply & { ok: true }> {
  const path = socketPath(root);
  if (!(await answers(path))) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const log = openSync(`${root}/supervisor.log`, 'a', 0o600);
    const [cmd, args] = command;
    // Its own session (setsid), and nothing tying it to this CLI: it outlives it.
    spawn(cmd, [...args, '--root', root, 'supervise'], { stdio: ['ignore', log, log], detached: true }).unref();
    for (const end = Date.now() + 10_000; !(await answers(path)); await sleep(20)) {
      if (Date.now() > end) throw new MinipodError(`no supervisor answers on ${path} (see ${root}/supervisor.log)`);
    }
  }
  const reply = await ask(path, req);
  if (!reply.ok) throw new MinipodError(reply.error, { exitCode: reply.exitCode });
  return reply;
}
