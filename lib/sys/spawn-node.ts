import { type ChildProcess, spawn } from 'node:child_process';
import { MinipodError } from '../errors.ts';
import { O_CLOEXEC } from './constants.ts';
import type { Libc } from './libc.ts';
import { type Child, type ExitStatus, type Spawner, signalNumber } from './process.ts';

export function nodeSpawner(libc: Libc): Spawner {
  return {
    spawn({ path, args, env, output, stdin }) {
      // Without stdin libuv opens /dev/null in the child. 'empty': a pipe
      // with no writer instead, made here, so the child looks up nothing in
      // a tree a container may have changed before its exec (uv_spawn waits
      // for that exec, so a FIFO there would hold the runtime too).
      const empty = stdin === 'empty' ? libc.pipe2(O_CLOEXEC) : null;
      let child: ChildProcess;
      try {
        if (empty) libc.close(empty[1]);
        child = spawn(path, args, { env, stdio: [empty ? empty[0] : stdin === 'inherit' ? 'inherit' : 'ignore', output, output] });
      } finally {
        if (empty) libc.close(empty[0]);
      }
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
}
