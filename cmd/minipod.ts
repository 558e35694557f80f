import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MinipodError } from '../lib/errors.ts';
import { globalsFrom } from './globals.ts';
import type { Verb } from './verb.ts';

const VERBS: Record<string, () => Promise<Verb>> = {
  run: () => import('./run.ts'),
  validate: () => import('./validate.ts'),
  ps: () => import('./ps.ts'),
  logs: () => import('./logs.ts'),
  stop: () => import('./stop.ts'),
  rm: () => import('./rm.ts'),
  inspect: () => import('./inspect.ts'),
  exec: () => import('./exec.ts'),
  gc: () => import('./gc.ts'),
  supervise: () => import('./supervise.ts'),
  pull: () => import('./pull.ts'),
  load: () => import('./load.ts'),
  images: () => import('./images.ts'),
  rmi: () => import('./rmi.ts'),
  image: () => import('./image.ts'),
};

const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  images: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const VERSION = '0.1.0';

const USAGE = `Usage: minipod [--root DIR] [--images DIR] VERB [OPTIONS] [ARGS]

Runs Kubernetes v1 Pod manifests: a pause sandbox holding the pod's network,
IPC and UTS namespaces, and containers joined into it. No Docker needed.

Verbs:
  run FILE        run a pod in the foreground until its containers end (-d: in the background)
  validate FILE   check a manifest without running it
  ps              list pods (-a: finished ones too; --containers: each container and pause)
  logs POD [C]    print a container's log (-f follows, --previous, --tail N, --timestamps)
  exec POD C -- CMD  run CMD in a running container (-i, -t for a terminal)
  stop POD        stop a pod (--grace SECONDS)
  rm POD          remove a finished pod's state and logs (-f: stop it first)
  inspect POD     a pod's state as JSON, with its namespaces (--format table)
  gc              clean up after pods whose supervisor is gone (--logs: their logs too)
  pull REF        pull an image from a registry into the image store (--platform, --tls-verify=false)
  load            load a docker save or OCI archive (-i FILE, or stdin)
  images          list the images in the store (-q, -o json)
  rmi REF...      remove images no pod uses (-f: untag all the same)
  image prune     remove unnamed images and what no image uses

Global options (before the verb, as in podman):
  --root DIR      runtime state (default /run/minipod, or $MINIPOD_ROOT)
  --images DIR    image store: pulled, loaded and directory images (default <minipod>/images, or $MINIPOD_IMAGES)
  -h, --help      this help; 'minipod VERB --help' for a verb's
  --version       print the version`;

async function main(argv: string[]): Promise<number> {
  // Global options end at the verb: split there, then parse each part strictly.
  const firstWord = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: false, tokens: true })
    .tokens!.find((t) => t.kind === 'positional');
  const verbAt = firstWord?.index ?? argv.length;
  const globals = parseWith(argv.slice(0, verbAt), GLOBAL_OPTIONS, 'minipod');
  if (globals.values.version) {
    console.log(`minipod ${VERSION}`);
    return 0;
  }
  const name = argv[verbAt];
  if (globals.values.help || name === undefined) {
    console.log(USAGE);
    return name === undefined && !globals.values.help ? 125 : 0;
  }
  const load = VERBS[name];
  if (!load) throw new MinipodError(`unknown verb "${name}"; see 'minipod --help'`);
  const verb = await load();
  const args = parseWith(argv.slice(verbAt + 1), { ...verb.options, help: { type: 'boolean', short: 'h' } }, `minipod ${name}`);
  if (args.values.help) {
    console.log(`Usage: ${verb.usage}\n\n${verb.summary}`);
    return 0;
  }
  return verb.run(args, globalsFrom(globals.values as { root?: string; images?: string }, process.env));
}

function parseWith(args: string[], options: NonNullable<ParseArgsConfig['options']>, who: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new MinipodError(`${who}: ${(err as Error).message}`);
  }
}

/** The one place an error reaches the user: `minipod: message`, and a code; a stack trace only for a bug. */
function report(err: unknown): number {
  if (err instanceof MinipodError) {
    // Several problems at once (validation, planning) are one line each.
    process.stderr.write(`${err.message.split('\n').map((line) => `minipod: ${line}`).join('\n')}\n`);
    return err.exitCode;
  }
  process.stderr.write(`minipod: internal error (a bug, please report it): ${(err as Error)?.stack ?? String(err)}\n`);
  return 125;
}

// process.exit drops what a pipe has not taken yet: it goes once both streams have.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
void main(process.argv.slice(2))
  .catch(report)
  .then(async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  });
