import { resolve } from 'node:path';
import { openCgroups } from '../lib/cgroup/open.ts';
import { openContext } from '../lib/context.ts';
import { request } from '../lib/daemon/client.ts';
import { MinipodError } from '../lib/errors.ts';
import { podStatus } from '../lib/status/kube.ts';
import { statsTable, statusTable } from '../lib/status/table.ts';
import { launchPod } from '../lib/supervisor/launch.ts';
import type { PodSupervisor, StopSignal } from '../lib/supervisor/pod.ts';
import { openHost } from '../lib/sys/host.ts';
import type { Globals } from './globals.ts';
import { IMAGE_PULL_OPTIONS, pullSettings } from './images-common.ts';
import { planFromFile } from './manifest.ts';
import { pullProgress } from '../lib/image/progress.ts';
import { oneOf, seconds } from './options.ts';
import type { VerbArgs } from './verb.ts';

export const summary = `Runs the pod in the foreground. Each line a container writes is printed as
"NAME | line" (stderr to stderr). When the pod has ended, its status is
printed on stderr: the pod's line as 'kubectl get pod' shows it, then one
line per container (state, exit code, kubelet's reason, restarts, duration).
With -o json, the pod's v1 PodStatus is printed on stdout instead, and the
containers' lines all go to stderr, so stdout is only the JSON.
minipod exits when every container has ended for good: 0 if all exited 0,
else the code of the first that failed, 124 when activeDeadlineSeconds ended
it; 125 when minipod itself failed (no status then). SIGINT/SIGTERM stop the
pod (a second one kills at once) and exit 130/143.
The pod gets a cgroup with one child per container (and one for the pause),
under <minipod's own cgroup>/minipod or --cgroup-parent, with the manifest's
cpu and memory limits and a pod pids limit (--pids-limit, default 4096);
--stats prints what each container used; --cgroup-manager disabled runs
without cgroups (no limits).
Images are pulled as the kubelet pulls them, by each container's
imagePullPolicy (default: Always for :latest or no tag, else IfNotPresent);
a failed pull is ErrImagePull (exit 125), or, for a pod whose containers
restart, tried again after a backoff (ImagePullBackOff) until it succeeds.`;

export const usage = `minipod [GLOBAL OPTIONS] run [-d] [--name NAME] [--grace SECONDS] [--backoff SECONDS] [-o json] [--stats]
                      [--cgroup-manager cgroupfs|disabled] [--cgroup-parent PATH] [--pids-limit N]
                      [--tls-verify=false] [--max-unpacked-size SIZE] FILE`;

export const options = {
  detach: { type: 'boolean', short: 'd' },
  name: { type: 'string' },
  grace: { type: 'string' },
  backoff: { type: 'string' },
  output: { type: 'string', short: 'o' },
  stats: { type: 'boolean' },
  'cgroup-manager': { type: 'string' },
  'cgroup-parent': { type: 'string' },
  'pids-limit': { type: 'string' },
  'tls-verify': IMAGE_PULL_OPTIONS['tls-verify'],
  'max-unpacked-size': IMAGE_PULL_OPTIONS['max-unpacked-size'],
} as const;

/** The kubelet's default pod pids limit is unlimited; minipod's is a fork bomb's ceiling. */
const DEFAULT_PIDS_LIMIT = 4096;

function positiveInteger(value: VerbArgs['values'][string], option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,9}$/.test(value)) {
    throw new MinipodError(`--${option}: Invalid value: ${JSON.stringify(value)}: must be a positive integer`);
  }
  return Number(value);
}

function cgroupPath(value: VerbArgs['values'][string]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.startsWith('/') || value.split('/').some((p) => p === '..' || p === '.')) {
    throw new MinipodError(`--cgroup-parent: Invalid value: ${JSON.stringify(value)}: must be an absolute cgroup path without . or .. (as /proc/self/cgroup shows them)`);
  }
  return value.replace(/\/+$/, '') || '/';
}

export async function run({ values, positionals }: VerbArgs, globals: Globals): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new MinipodError(`usage: ${usage}`);
  const graceSeconds = seconds(values.grace, 'grace');
  const backoffSeconds = seconds(values.backoff, 'backoff') ?? 10;
  const output = oneOf(values.output, 'output', ['table', 'json']);
  // crun's name for running without cgroups: no limits, no accounting, nothing created.
  const cgroupManager = oneOf(values['cgroup-manager'], 'cgroup-manager', ['cgroupfs', 'disabled']);
  const pidsLimit = positiveInteger(values['pids-limit'], 'pids-limit') ?? DEFAULT_PIDS_LIMIT;
  const cgroupParent = cgroupPath(values['cgroup-parent']);
  const nameOverride = typeof values.name === 'string' ? values.name : undefined;
  // Pulled here, in the CLI, for a detached pod too: its progress and failure reach the user, and the shared supervisor finds the images present.
  const pull = {
    ...pullSettings(values),
    progress: pullProgress(process.stderr),
    ...(values.detach ? {} : { backoffSeconds }),
  };
  const { plan, manifest, leases } = await planFromFile(file, globals.images, { name: nameOverride, pull });
  if (values.detach) {
    if (values.stats || values.output !== undefined) throw new MinipodError('-d: --stats and -o are for a pod in the foreground; see minipod ps and inspect');
    const { id } = await request(globals.root, {
      op: 'run', file: resolve(file), images: globals.images, name: nameOverride, graceSeconds, backoffSeconds, pidsLimit, cgroupParent,
      cgroups: cgroupManager !== 'disabled',
    }, globals.self);
    process.stdout.write(`${id}\n`);
    return 0;
  }
  if (plan.restartPolicy === 'Always') {
    process.stderr.write(`minipod: restartPolicy is Always (the Kubernetes default): the pod runs until stopped (Ctrl-C)\n`);
  }

  // A reader that goes away (`minipod run pod.yaml | head`) must not take the
  // pod's supervision with it: drop the output, keep running, tear down as usual.
  // A reader slower than the pod (`minipod run pod.yaml | less`) holds the
  // containers back instead: print's promise says to wait for the drain.
  const open = { stdout: true, stderr: true };
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].on('error', () => {
      open[stream] = false;
      process[stream].emit('drain'); // nobody waits for a reader that is gone
    });
  }
  const print = (stream: 'stdout' | 'stderr', text: string): Promise<void> | undefined => {
    if (!open[stream] || process[stream].write(text)) return undefined;
    return new Promise((resolve) => process[stream].once('drain', resolve));
  };

  // Handled from the start: a signal during start-up stops the pod as well.
  let supervisor: PodSupervisor | null = null;
  let pending: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => () => (supervisor ? supervisor.stop(signal) : (pending = signal));
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
  const ctx = openContext(await openHost(), globals.files);
  try {
    const launched = await launchPod(ctx, plan, {
      stateRoot: globals.root,
      detached: false,
      leases,
      manifest,
      cgroups: cgroupManager === 'disabled' ? null : openCgroups({ parent: cgroupParent, pidsLimit }),
      stats: values.stats === true,
      graceSeconds,
      backoffSeconds,
      events: {
        // With -o json stdout carries the status alone.
        line: (container, stream, text) => print(output === 'json' ? 'stderr' : stream, `${container} | ${text}\n`),
        notice: (message) => void print('stderr', `minipod: ${message}\n`),
      },
    });
    supervisor = launched.supervisor;
    if (pending) supervisor.stop(pending);
    const done = launched.done;
    const result = await done;
    if (output === 'json') print('stdout', `${JSON.stringify(podStatus(result), null, 4)}\n`);
    else print('stderr', statusTable(result));
    if (values.stats) print('stderr', statsTable(result));
    return result.exitCode;
  } finally {
    for (const [signal, handler] of Object.entries(handlers)) process.off(signal, handler);
    ctx.close();
  }
}
