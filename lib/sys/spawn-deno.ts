import { MinipodError } from '../errors.ts';
import { type Child, type Spawner, signalNumber } from './process.ts';

export const denoSpawner: Spawner = {
  spawn({ path, args, env, output, stdin }) {
    const stdio = ({ pipe: 'piped', ignore: 'null', inherit: 'inherit' } as const)[output];
    let child: Deno.ChildProcess;
    try {
      // Deno opens /dev/null for 'null' itself, on this thread, and takes no
      // descriptor: 'empty' is its pipe, the writer closed once it is spawned.
      const input = stdin === undefined ? 'null' : ({ inherit: 'inherit', empty: 'piped' } as const)[stdin];
      child = new Deno.Command(path, { args, env, clearEnv: true, stdin: input, stdout: stdio, stderr: stdio }).spawn();
    } catch (err) {
      throw new MinipodError(`spawn ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (stdin === 'empty') child.stdin.close().catch(() => {});
    const exited = child.status.then((s) => ({
      code: s.signal === null ? s.code : null,
      signal: signalNumber(s.signal),
    }));
    const piped = output === 'pipe';
    return {
      pid: child.pid,
      stdout: piped ? child.stdout : null,
      stderr: piped ? child.stderr : null,
      exited,
    } satisfies Child;
  },
};
