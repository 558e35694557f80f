import { spawn } from 'node:child_process';
import { MinipodError } from '../errors.ts';
import { type Child, type ExitStatus, type Spawner, signalNumber } from './process.ts';

export const nodeSpawner: Spawner = {
  spawn({ path, args, env, output, stdin }) {
    // Without stdin: /dev/null (resolved in the child, so inside the container's root).
    const child = spawn(path, args, { env, stdio: [stdin ?? 'ignore', output, output] });
    if (child.pid === undefined) {
      // libuv reports exec failures asynchronously; the fork itself failed here.
      child.on('error', () => {});
      throw new MinipodError(`spawn ${path}: failed to start`);
    }
    const exited = new Promise<ExitStatus>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal: signalNumber(signal) })),
    );
    return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, exited } satisfies Child;
  },
};
