// The shared supervisor: one long-lived process per state root that runs
// every detached pod (minipod run -d), so that an additional pod costs its
// pause and a few objects here, not a runtime of its own (see
// docs/supervisor.md). It exits as soon as it has no pod left.
import { appendFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { openCgroups } from '../cgroup/open.ts';
import type { RuntimeContext } from '../context.ts';
import { MinipodError } from '../errors.ts';
import type { PodPlan } from '../spec/plan-types.ts';
import { withLock } from '../state/lock.ts';
import { removeLogs } from '../state/store.ts';
import { launchPod } from '../supervisor/launch.ts';
import { type ImageLeases, podId, type PodSupervisor } from '../supervisor/pod.ts';
import { answers } from './client.ts';
import { type Reply, type Request, type RunRequest, socketPath } from './protocol.ts';

export interface Planner {
  (file: string, images: string, name: string | undefined): Promise<{ plan: PodPlan; manifest: unknown; leases: ImageLeases | null }>;
}

/** How long a supervisor started for a request waits for it before giving up. */
const IDLE_EXIT_MS = 10_000;

export async function serve(ctx: RuntimeContext, root: string, plan: Planner): Promise<void> {
  const pods = new Map<string, { supervisor: PodSupervisor; done: Promise<unknown> }>();
  const log = (line: string) => appendFileSync(`${root}/supervisor.log`, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  const server = createServer((socket) => handle(socket));
  let idle: ReturnType<typeof setTimeout> | undefined;
  /** Requests being answered: a pod being started is not in `pods` yet. */
  let busy = 0;
  /** No request is taken any more: a pod started now would die with this process. */
  let leaving = false;
  const exitWhenIdle = (ms: number) => {
    clearTimeout(idle);
    const unused = () => pods.size === 0 && busy === 0;
    if (unused()) {
      idle = setTimeout(() => {
        if (!unused()) return;
        leaving = true;
        server.close();
      }, ms);
    }
  };

  async function run(req: RunRequest): Promise<Reply> {
    const { plan: podPlan, manifest, leases } = await plan(req.file, req.images, req.name);
    const { supervisor, done } = await launchPod(ctx, podPlan, {
      stateRoot: root,
      detached: true,
      leases,
      manifest,
      cgroups: req.cgroups ? openCgroups({ parent: req.cgroupParent, pidsLimit: req.pidsLimit }) : null,
      stats: false,
      graceSeconds: req.graceSeconds,
      backoffSeconds: req.backoffSeconds,
      // What the foreground run prints as notices (restarts, start failures), kept with the pod's state.
      events: {
        line: () => {},
        notice: (message) => appendFileSync(`${root}/${podId(podPlan.uid)}/events.log`, `${new Date().toISOString()} ${message}\n`, { mode: 0o600 }),
      },
    });
    /** A failure the CLI was told of is not logged again. */
    let told = false;
    const settled = done.then(() => {}, (err: Error) => told || log(`${podPlan.name}: ${err.message}`)).finally(() => {
      pods.delete(supervisor.id);
      exitWhenIdle(0);
    });
    pods.set(supervisor.id, { supervisor, done: settled });
    const started = await supervisor.started;
    const cannotRun = started ? supervisor.cannotRun() : null;
    if (started && !cannotRun) return { ok: true, id: supervisor.id };
    // Not every app container got to run: say why, and leave nothing.
    told = true;
    if (cannotRun) supervisor.stop('SIGTERM', 0);
    const failure = await done.then(() => null, (err: MinipodError) => err);
    await settled;
    rmSync(`${root}/${supervisor.id}`, { recursive: true, force: true });
    removeLogs(root, supervisor.logDir);
    const why = cannotRun ?? failure?.message ?? supervisor.firstFailure() ?? 'it ended before all its containers had started';
    const message = `pod "${podPlan.name}" did not start: ${why}`;
    return { ok: false, error: message, exitCode: failure?.exitCode ?? 125 };
  }

  async function answer(req: Request): Promise<Reply> {
    if (req.op === 'run') return run(req);
    const pod = pods.get(req.id);
    if (!pod) return { ok: false, error: `pod ${req.id} is not running under this supervisor`, exitCode: 125 };
    pod.supervisor.stop('SIGTERM', req.graceSeconds);
    await pod.done;
    return { ok: true, id: req.id };
  }

  function handle(socket: Socket): void {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      // Closed unanswered, the request goes to a new supervisor (see request() in client.ts).
      if (leaving) return socket.destroy();
      const req = JSON.parse(buffer.slice(0, newline)) as Request;
      clearTimeout(idle);
      busy++;
      answer(req)
        .catch((err: Error): Reply => ({ ok: false, error: err.message, exitCode: err instanceof MinipodError ? err.exitCode : 125 }))
        .then((reply) => {
          busy--;
          socket.end(`${JSON.stringify(reply)}\n`);
          exitWhenIdle(0);
        });
    });
    socket.on('error', () => {}); // a client that went away: its pod runs on
  }

  const path = socketPath(root);
  // Two CLIs may each have started one: the first to listen serves, the other leaves.
  const bound = await withLock(ctx.host.libc, root, async () => {
    if (await answers(path)) return null;
    rmSync(path, { force: true });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    return statSync(path).ino;
  });
  if (bound === null) return;
  exitWhenIdle(IDLE_EXIT_MS);
  await new Promise<void>((resolve) => server.once('close', resolve));
  await withLock(ctx.host.libc, root, () => {
    // A CLI that found this one leaving may have started a successor, which
    // listens on the path now: its socket and its log are not ours to remove.
    const now = statSync(path, { throwIfNoEntry: false });
    if (now && now.ino !== bound) return;
    rmSync(path, { force: true });
    // Nothing went wrong if nothing was written: no file left behind then.
    const logFile = `${root}/supervisor.log`;
    if (statSync(logFile, { throwIfNoEntry: false })?.size === 0) rmSync(logFile, { force: true });
  });
}
