import { openContext } from '../lib/context.ts';
import { execInContainer } from '../lib/container/exec.ts';
import { Pty } from '../lib/container/pty.ts';
import { MinipodError } from '../lib/errors.ts';
import { isAlive } from '../lib/state/process-ref.ts';
import { findPod } from '../lib/state/store.ts';
import { openHost } from '../lib/sys/host.ts';
import { exitCodeOf } from '../lib/sys/process.ts';
import type { Globals } from './globals.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Runs CMD in a running container, as 'kubectl exec' does: in all of its
namespaces (mount, PID, network, IPC, UTS) and its cgroups, as its user, in
its working directory, with its environment. minipod exits with CMD's exit
code (126/127 when it cannot be executed). -i passes stdin; -t gives CMD a
pseudo-terminal, puts this terminal in raw mode and forwards its size:
'minipod exec -it POD CONTAINER -- sh' is an interactive shell.`;
export const usage = 'minipod [--root DIR] exec [-i] [-t] POD CONTAINER -- CMD [ARG...]';
export const options = { stdin: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' } } as const;

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [ref, name, ...argv] = positionals;
  if (!ref || !name || argv.length === 0) throw new MinipodError(`usage: ${usage}`);
  const pod = findPod(globals.root, ref);
  const container = [...pod.initContainers, ...pod.containers].find((c) => c.name === name);
  if (!container) throw new MinipodError(`container ${name} is not valid for pod ${pod.name}`);
  if (!container.process || !isAlive(container.process)) throw new MinipodError(`container "${name}" of pod "${pod.name}" is not running`);
  const host = await openHost();
  const ctx = openContext(host, globals.files);
  const pty = values.tty ? Pty.open(host.libc, container.process.pid) : null;
  try {
    const { child, takeStartError } = execInContainer(ctx, container, container.process.pid, {
      argv, stdin: values.stdin === true, tty: pty?.slave ?? null,
    });
    const status = pty ? await relay(pty, child.exited, values.stdin === true) : await child.exited;
    const error = takeStartError();
    if (error) process.stderr.write(`minipod: ${error}\n`);
    return exitCodeOf(status);
  } finally {
    pty?.close();
    ctx.close();
  }
}

/** This terminal <-> the pseudo-terminal, in raw mode, with its size, until the command exits. */
async function relay<T>(pty: Pty, exited: Promise<T>, withStdin: boolean): Promise<T> {
  const stdin = process.stdin;
  const size = () => {
    if (process.stdout.isTTY) pty.resize(process.stdout.rows, process.stdout.columns);
  };
  size();
  process.on('SIGWINCH', size);
  const raw = withStdin && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onData = (chunk: Uint8Array) => pty.write(chunk);
  if (withStdin) stdin.on('data', onData);
  const pump = setInterval(() => {
    const data = pty.read();
    if (data?.length) process.stdout.write(data);
  }, 10);
  try {
    const status = await exited;
    const rest = pty.read();
    if (rest?.length) process.stdout.write(rest);
    return status;
  } finally {
    clearInterval(pump);
    process.off('SIGWINCH', size);
    if (withStdin) {
      stdin.off('data', onData);
      stdin.pause();
    }
    if (raw) stdin.setRawMode(false);
  }
}
