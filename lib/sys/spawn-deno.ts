import { MinipodError } from '../errors.ts';
import { type Child, type Spawner, signalNumber } from './process.ts';

export const denoSpawner: Spawner = {
  spawn({ path, args, env, output, stdin }) {
    const stdio = ({ pipe: 'piped', ignore: 'null', inherit: 'inherit' } as const)[output];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(path, { args, env, clearEnv: true, stdin: stdin ?? 'null', stdout: stdio, stderr: stdio }).spawn();
    } catch (err) {
      throw new MinipodError(`spawn ${path}: ${(err as Error).message}`, { cause: err });
    }
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
