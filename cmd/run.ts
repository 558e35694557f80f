import { openContext } from '../lib/context.ts';
import { MinipodError } from '../lib/errors.ts';
import { PodSupervisor, type StopSignal } from '../lib/supervisor/pod.ts';
import { openHost } from '../lib/sys/host.ts';
import type { Globals } from './globals.ts';
import { planFromFile } from './manifest.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Runs the pod in the foreground. Each line a container writes is printed as
"NAME | line" (stderr to stderr). minipod exits when every container has
ended for good: 0 if all exited 0, else the code of the first that failed;
125 when minipod itself failed. SIGINT/SIGTERM stop the pod (a second one
kills at once) and exit 130/143.`;

export const usage = 'minipod [GLOBAL OPTIONS] run [--grace SECONDS] [--backoff SECONDS] FILE';

export const options = {
  grace: { type: 'string' },
  backoff: { type: 'string' },
} as const;

function seconds(value: VerbArgs['values'][string], option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new MinipodError(`--${option}: Invalid value: ${JSON.stringify(value)}: must be a number of seconds >= 0`);
  }
  return n;
}

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new MinipodError(`usage: ${usage}`);
  const graceSeconds = seconds(values.grace, 'grace');
  const backoffSeconds = seconds(values.backoff, 'backoff') ?? 10;
  const plan = await planFromFile(file, globals.images);
  if (plan.restartPolicy === 'Always') {
    process.stderr.write(`minipod: restartPolicy is Always (the Kubernetes default): the pod runs until stopped (Ctrl-C)\n`);
  }

  // A reader that goes away (`minipod run pod.yaml | head`) must not take the
  // pod's supervision with it: drop the output, keep running, tear down as usual.
  const open = { stdout: true, stderr: true };
  for (const stream of ['stdout', 'stderr'] as const) process[stream].on('error', () => (open[stream] = false));
  const print = (stream: 'stdout' | 'stderr', text: string) => open[stream] && process[stream].write(text);

  const ctx = openContext(await openHost(), globals.files);
  const supervisor = new PodSupervisor(ctx, plan, {
    stateRoot: globals.root,
    graceSeconds,
    backoffSeconds,
    events: {
      line: (name, stream, text) => print(stream, `${name} | ${text}\n`),
      notice: (message) => print('stderr', `minipod: ${message}\n`),
    },
  });
  const onSignal = (signal: StopSignal) => () => supervisor.stop(signal);
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
  try {
    return (await supervisor.run()).exitCode;
  } finally {
    for (const [signal, handler] of Object.entries(handlers)) process.off(signal, handler);
    ctx.close();
  }
}
