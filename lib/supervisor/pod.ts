import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { podResources, type ContainerResources } from '../cgroup/limits.ts';
import type { ContainerCgroup, PodCgroups } from '../cgroup/pod-cgroups.ts';
import { type ContainerProcess, startContainer } from '../container/start.ts';
import type { RuntimeContext } from '../context.ts';
import { MinipodError, wrapError } from '../errors.ts';
import { CriLogWriter, MAX_MESSAGE } from '../logs/cri.ts';
import { forEachLine } from '../logs/lines.ts';
import { type Sandbox, startSandbox } from '../sandbox/sandbox.ts';
import type { ContainerPlan, PodPlan } from '../spec/plan-types.ts';
import { PodDir } from '../state/pod-dir.ts';
import { processRef } from '../state/process-ref.ts';
import type { ContainerRecord, PodPhase, PodRecord } from '../state/record.ts';
import { containerLogFile, logsRoot, removeLogs } from '../state/store.ts';
import { SIGKILL, SIGTERM } from '../sys/constants.ts';
import { ESRCH } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import { type ExitStatus, exitCodeOf } from '../sys/process.ts';
import { prepareVolumes } from '../volume/prepare.ts';
import { Backoff, shouldRestart } from './restart.ts';
import { type ContainerReason, type ContainerStatus, DEADLINE_EXIT_CODE, type PodResult } from './status.ts';
import { within, longTimeout } from './timers.ts';

export interface PodEvents {
  /**
   * One line a container wrote, without its newline. A promise when the
   * consumer is not ready for more (a slow terminal): that container's
   * output is not read on until it settles, so the container waits as it
   * would writing to that terminal, and nothing piles up in memory.
   */
  line(container: string, stream: 'stdout' | 'stderr', text: string): void | Promise<void>;
  /** Something the user should know about the pod: a start failure, a restart. */
  notice(message: string): void;
}

/** Makes a pod's cgroups (see lib/cgroup/open.ts); null: none, as in the unit tests. */
/** Makes a pod's cgroups; `record` hears of their directories before any is made (see createPodCgroups). */
export type CgroupFactory = (podId: string, pod: ContainerResources, record?: (dirs: readonly string[]) => void) => PodCgroups;

export interface SuperviseOptions {
  stateRoot: string;
  /** Under the shared supervisor (run -d): when the pod ends, its state and logs stay for ps, logs and inspect until rm. */
  detached: boolean;
  /** The manifest as given, kept in the state for inspect. */
  manifest: unknown;
  cgroups: CgroupFactory | null;
  /** Report each container's usage from its cgroup (--stats). */
  stats: boolean;
  /** Overrides spec.terminationGracePeriodSeconds. */
  graceSeconds?: number;
  /** First restart delay; kubelet's is 10 s. */
  backoffSeconds: number;
  events: PodEvents;
  /** Where the pod says which images of the store it uses, so that rmi and prune leave them alone while it runs. */
  leases: ImageLeases | null;
}

/** The image store's leases (lib/image/store.ts), as a pod takes and gives them back. */
export interface ImageLeases {
  addLease(id: string, podDir: string, manifestDigests: string[]): Promise<void>;
  removeLease(id: string): Promise<void>;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNALS;

/** init: runs to completion before the next; sidecar: an init container that keeps running; app: spec.containers. */
type Role = 'init' | 'sidecar' | 'app';

interface Slot {
  role: Role;
  plan: ContainerPlan;
  status: ContainerStatus;
  process: ContainerProcess | null;
  /** Resolves when the current process has exited and its exit was handled. */
  exited: Promise<void>;
  startedAt: number;
  backoff: Backoff;
  restartTimer: ReturnType<typeof setTimeout> | null;
  /** Ended for good: no restart will follow. */
  done: boolean;
  /** Signalled by the teardown (its exit is then the pod's doing, not its own). */
  stopped: boolean;
  cgroup: ContainerCgroup | null;
  /** The cgroup's OOM kills before the current run. */
  oomKillsBefore: number;
  output: Promise<void>[];
}

function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `killed by signal ${status.signal}` : `exit ${status.code}`;
}

function newSlot(role: Role, plan: ContainerPlan, backoffSeconds: number): Slot {
  return {
    role,
    plan,
    status: {
      name: plan.name, kind: role, image: plan.image, imageID: plan.imageID, restarts: 0, state: 'waiting', startedAt: null, last: null, previous: null, usage: null,
    },
    process: null,
    exited: Promise.resolve(),
    startedAt: 0,
    backoff: new Backoff(backoffSeconds),
    restartTimer: null,
    done: false,
    stopped: false,
    cgroup: null,
    oomKillsBefore: 0,
    output: [],
  };
}

/**
 * Runs one pod in the foreground, as the kubelet runs a pod: init containers
 * one at a time, each to success (sidecars among them started in order and
 * kept running), then the app containers; restarts per restartPolicy with
 * kubelet's backoff; the pod's activeDeadlineSeconds. The teardown leaves
 * nothing behind on every path out (success, failure, deadline, signal, or
 * an error halfway through start): app containers are stopped first, then
 * the sidecars in reverse order, all within one grace period, then the pause.
 */
/** Where a /proc symlink leads, or null once it leads nowhere (the process or descriptor is gone). */
function link(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** The oldest child of `pid` still there, or null if it has none (or is gone). */
function firstChild(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/** A pod's id: the first 12 hex digits of its uid, as the state root and the cgroups name it. */
export const podId = (uid: string) => uid.replaceAll('-', '').slice(0, 12);

export class PodSupervisor {
  readonly id: string;
  private readonly init: Slot[];
  private readonly apps: Slot[];
  /** The next init container to run; init.length once all have. */
  private nextInit = 0;
  private dir: PodDir | null = null;
  private sandbox: Sandbox | null = null;
  private volumes = new Map<string, string>();
  private cgroups: PodCgroups | null = null;
  private ending = false;
  private stopSignal: StopSignal | null = null;
  /** The pod's cgroup directories, known (and recorded) before they are made. */
  private cgroupDirs: readonly string[] = [];
  /** The pod holds a lease on its images in the store. */
  private leased = false;
  private deadlineExceeded = false;
  private cancelDeadline: () => void = () => {};
  private failure: MinipodError | null = null;
  /** A pod that never finished starting has nothing to shut down gracefully: no grace period. */
  private startFailed = false;
  private firstFailedCode: number | null = null;
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));
  private phase: PodPhase = 'Pending';
  private graceOverride: number | undefined;
  private finishedAt: number | null = null;
  private exitCode: number | null = null;
  private readonly createdAt = Date.now();
  readonly logDir: string;
  private reportStarted!: (started: boolean) => void;
  /** true once every app container has started (its app exec'd, even if it has ended since); false if the pod ended before. */
  readonly started = new Promise<boolean>((resolve) => (this.reportStarted = resolve));
  private killNow!: () => void;
  private readonly killed = new Promise<void>((resolve) => (this.killNow = resolve));

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly plan: PodPlan,
    private readonly options: SuperviseOptions,
  ) {
    this.id = podId(plan.uid);
    this.init = plan.initContainers.map((c) => newSlot(c.sidecar ? 'sidecar' : 'init', c, options.backoffSeconds));
    this.apps = plan.containers.map((c) => newSlot('app', c, options.backoffSeconds));
    this.logDir = join(logsRoot(options.stateRoot), `${plan.namespace}_${plan.name}_${plan.uid}`);
  }

  async run(): Promise<PodResult> {
    const startedAt = this.createdAt;
    if (this.plan.activeDeadlineSeconds !== null) {
      this.cancelDeadline = longTimeout(() => {
        this.deadlineExceeded = true;
        this.options.events.notice(`pod "${this.plan.name}" was active longer than activeDeadlineSeconds (${this.plan.activeDeadlineSeconds}s): stopping it`);
        this.end();
      }, this.plan.activeDeadlineSeconds * 1000);
    }
    try {
      this.dir = PodDir.create(this.options.stateRoot, this.id);
      this.saveState();
      const images = [...new Set([...this.plan.initContainers, ...this.plan.containers].flatMap((c) => (c.imageID ? [c.imageID.slice(c.imageID.lastIndexOf('@') + 1)] : [])))];
      if (images.length > 0) {
        await this.options.leases!.addLease(this.id, this.dir.path, images);
        this.leased = true;
      }
      this.volumes = prepareVolumes(this.plan.volumes, this.dir);
      // Recorded before they are made: a kill -9 between the two must not leave cgroups gc knows nothing of.
      this.cgroups = this.options.cgroups?.(this.id, podResources(
        this.plan.containers.map((c) => c.resources),
        this.plan.initContainers.map((c) => ({ sidecar: c.sidecar, resources: c.resources })),
      ), (dirs) => {
        this.cgroupDirs = dirs;
        this.saveState();
      }) ?? null;
      this.sandbox = startSandbox(this.ctx, {
        cgroupProcs: this.cgroups?.pause.procs ?? [],
        hostname: this.plan.hostname,
        shmDir: this.dir.shm,
        host: this.plan.host,
        pauseRoot: this.dir.pauseRoot,
        memoryVolumes: this.plan.volumes.flatMap((v) =>
          v.kind === 'emptyDir' && v.medium === 'memory' ? [{ dir: this.volumes.get(v.name)!, sizeBytes: v.sizeLimitBytes }] : []),
      });
      void this.sandbox.child.exited.then((status) => {
        if (this.ending) return;
        this.fail(new MinipodError(`the pod sandbox (pause) exited unexpectedly (${describeExit(status)})`));
      });
      this.saveState();
      this.advance();
    } catch (err) {
      this.startFailed = true;
      this.fail(wrapError(`start pod "${this.plan.name}"`, err));
    }
    await this.finished;
    await this.teardown();
    const exitCode = this.stopSignal
      ? 128 + SIGNALS[this.stopSignal]
      : this.deadlineExceeded ? DEADLINE_EXIT_CODE : (this.firstFailedCode ?? 0);
    this.phase = exitCode === 0 && !this.failure ? 'Succeeded' : 'Failed';
    this.finishedAt = Date.now();
    this.exitCode = this.failure ? this.failure.exitCode : exitCode;
    if (this.options.detached && this.dir) this.saveState();
    else removeLogs(this.options.stateRoot, this.logDir);
    if (this.failure) throw this.failure;
    return {
      id: this.id,
      name: this.plan.name,
      node: this.plan.node,
      podIP: this.plan.podIP,
      startedAt,
      finishedAt: Date.now(),
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      reason: this.deadlineExceeded ? 'DeadlineExceeded' : null,
      exitCode,
      initContainers: this.init.map((s) => s.status),
      containers: this.apps.map((s) => s.status),
    };
  }

  /** SIGINT/SIGTERM (or `minipod stop`): stop every container within the grace period. A second call kills at once. */
  stop(signal: StopSignal, graceSeconds?: number): void {
    if (this.ending) {
      this.killNow();
      return;
    }
    if (graceSeconds !== undefined) this.graceOverride = graceSeconds;
    this.stopSignal = signal;
    this.end();
  }

  private end(): void {
    // A pod whose app containers all ran (their app was exec'd) and ended
    // before the exec check saw them did start: `true` exits in a millisecond.
    this.reportStarted(this.apps.every((s) => s.status.last !== null && s.status.last.reason !== 'ContainerCannotRun'));
    this.ending = true;
    this.cancelDeadline();
    this.finish();
  }

  private fail(err: MinipodError): void {
    this.failure ??= err;
    this.end();
  }

  /**
   * Start what comes next: the init containers in order (a sidecar counts as
   * done once started, as kubelet does without a startup probe), then, all
   * of them through, every app container at once.
   */
  private advance(): void {
    while (this.nextInit < this.init.length) {
      const slot = this.init[this.nextInit]!;
      if (slot.role === 'init') {
        if (!slot.done) {
          // Its process in the state while it runs (for gc, exec), as the app containers' are below.
          this.start(slot);
          return this.saveState();
        }
      } else {
        this.start(slot);
      }
      this.nextInit++;
    }
    for (const slot of this.apps) this.start(slot);
    this.phase = 'Running';
    this.saveState();
    void Promise.all(this.apps.map((slot) => this.execed(slot))).then(() => this.reportStarted(true));
  }

  /**
   * Once the container's process runs its app, as kubelet calls a container
   * started; or once an exit (a command that could not be executed) has
   * been handled. Until then /proc/PID/exe is the runtime's own binary (the
   * fork) or the exec helper's sealed copy. With hostPID the helper never
   * execs the app but forks it and stays as its parent (minipod-init -r):
   * the exe to watch is then its child's.
   */
  private async execed(slot: Slot): Promise<void> {
    const process = slot.process;
    const before = [realpathSync(globalThis.process.execPath), link(this.ctx.initExec)];
    while (process && slot.process === process) {
      const helper = process.child.pid;
      const exe = link(`/proc/${helper}/exe`);
      if (exe === null) return slot.exited; // gone: its exit tells
      const app = this.plan.host.pid ? firstChild(helper) : helper;
      const appExe = app === null ? null : app === helper ? exe : link(`/proc/${app}/exe`);
      // No app (not forked yet, or gone while the helper reaps what it left) is not started yet: the helper's exit tells.
      if (appExe !== null && !before.includes(appExe)) return;
      await sleep(2);
    }
  }

  /** Why an app container could not run, if one could not: for run -d to report. */
  cannotRun(): string | null {
    const slot = this.apps.find((s) => s.status.last?.reason === 'ContainerCannotRun' && s.status.state !== 'running');
    return slot ? `container "${slot.status.name}": ${slot.status.last!.message}` : null;
  }

  /** The first container that ended in failure, in words, for a pod that ended before it was started. */
  firstFailure(): string | null {
    const slot = [...this.init, ...this.apps].find((s) => s.status.last && s.status.last.exitCode !== 0);
    if (!slot) return null;
    const { last } = slot.status;
    const what = slot.role === 'app' ? 'container' : 'init container';
    return `${what} "${slot.status.name}" ${last!.message ?? `exited with ${last!.exitCode} (${last!.reason})`}`;
  }

  private start(slot: Slot): void {
    const { plan } = slot;
    slot.cgroup = this.cgroups?.container(plan.name, plan.resources) ?? null;
    slot.oomKillsBefore = slot.cgroup?.oomKills() ?? 0;
    const process = startContainer(this.ctx, this.sandbox!, {
      cgroupProcs: slot.cgroup?.procs ?? [],
      sharePid: this.plan.sharePid,
      hostPid: this.plan.host.pid,
      shm: this.plan.host.ipc ? '/dev/shm' : this.dir!.shm,
      volumes: this.volumes,
      layer: this.dir!.containerLayer(plan.name),
    }, plan);
    slot.process = process;
    slot.startedAt = Date.now();
    slot.status.state = 'running';
    slot.status.startedAt = slot.startedAt;
    const { events } = this.options;
    // One CRI log file per run, as the kubelet keeps them: <container>/<restart>.log.
    const log = new CriLogWriter(containerLogFile(this.logDir, plan.name, slot.status.restarts));
    const run: Promise<void>[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = process.child[stream];
      if (source) {
        run.push(forEachLine(source, MAX_MESSAGE, (text, partial) => {
          log.write(stream, text, partial);
          return events.line(plan.name, stream, text);
        }));
      }
    }
    slot.output.push(Promise.all(run).then(() => log.close()));
    slot.exited = process.child.exited.then((status) => this.onExit(slot, process, exitCodeOf(status)));
  }

  private reasonFor(slot: Slot, exitCode: number, startError: string | null): ContainerReason {
    if (startError) return 'ContainerCannotRun';
    // As containerd tells the kubelet: an OOM kill in the container's cgroup during this run.
    if (slot.cgroup && slot.cgroup.oomKills() > slot.oomKillsBefore) return 'OOMKilled';
    if (slot.stopped && this.deadlineExceeded) return 'DeadlineExceeded';
    return exitCode === 0 ? 'Completed' : 'Error';
  }

  private onExit(slot: Slot, process: ContainerProcess, exitCode: number): void {
    slot.process = null;
    const startError = process.takeStartError();
    const { status } = slot;
    status.previous = status.last;
    status.last = {
      exitCode, reason: this.reasonFor(slot, exitCode, startError), message: startError, startedAt: slot.startedAt, finishedAt: Date.now(),
    };
    status.state = 'terminated';
    status.startedAt = null;
    if (startError) this.options.events.notice(`container "${status.name}": ${startError}`);
    this.saveState();
    if (this.ending) return;

    if (this.wantsRestart(slot, exitCode)) return this.scheduleRestart(slot, exitCode);
    slot.done = true;
    if (exitCode !== 0) this.firstFailedCode ??= exitCode;
    if (slot.role === 'init') {
      if (exitCode !== 0) return this.end(); // restartPolicy Never: the pod has failed
      this.nextInit++;
      try {
        this.advance();
      } catch (err) {
        this.fail(wrapError(`start pod "${this.plan.name}"`, err));
      }
      return;
    }
    if (this.apps.every((s) => s.done)) this.end();
  }

  private wantsRestart(slot: Slot, exitCode: number): boolean {
    switch (slot.role) {
      case 'sidecar':
        return true; // whatever the pod's policy
      case 'init':
        // It must succeed: with Always too, it is retried only after a failure.
        return exitCode !== 0 && this.plan.restartPolicy !== 'Never';
      case 'app':
        return shouldRestart(this.plan.restartPolicy, exitCode);
    }
  }

  private scheduleRestart(slot: Slot, exitCode: number): void {
    const { status } = slot;
    const delay = slot.backoff.next((Date.now() - slot.startedAt) / 1000);
    const why = slot.role === 'sidecar' ? 'a sidecar (restartPolicy Always)' : `restartPolicy ${this.plan.restartPolicy}`;
    this.options.events.notice(`container "${status.name}" exited with ${exitCode}; restarting in ${delay}s (${why})`);
    status.state = 'waiting';
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      status.restarts++;
      try {
        this.start(slot);
        this.saveState();
      } catch (err) {
        this.fail(wrapError(`restart container "${status.name}"`, err));
      }
    }, delay * 1000);
  }

  private async teardown(): Promise<void> {
    const all = [...this.init, ...this.apps];
    for (const slot of all) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
    }
    const grace = this.startFailed ? 0 : (this.graceOverride ?? this.options.graceSeconds ?? this.plan.terminationGracePeriodSeconds);
    const deadline = Date.now() + grace * 1000;
    // What runs now, before the stop changes it; peaks and cpu time once all is over.
    if (this.options.stats) for (const slot of all) slot.status.usage = slot.cgroup?.stats() ?? null;
    await this.stopAll([...this.apps, ...this.init.filter((s) => s.role === 'init')], deadline);
    for (const sidecar of this.init.filter((s) => s.role === 'sidecar').reverse()) await this.stopAll([sidecar], deadline);
    if (this.sandbox) {
      // The pause exits 0 on SIGTERM; as PID 1 of the pod's PID namespace its
      // exit takes every process left in that namespace with it.
      const pause = this.sandbox.child;
      this.signal(this.sandbox.pid, SIGTERM);
      const gone = await within(pause.exited.then(() => true), 2000, false);
      if (!gone) this.signal(this.sandbox.pid, SIGKILL);
      await pause.exited;
      this.sandbox.close();
    }
    await Promise.all(all.flatMap((s) => s.output));
    if (this.options.stats) {
      for (const { status, cgroup } of all) {
        const end = cgroup?.stats();
        if (status.usage && end) status.usage = { ...status.usage, memoryPeakBytes: end.memoryPeakBytes, cpuSeconds: end.cpuSeconds };
      }
    }
    await this.cgroups?.destroy((pid) => this.signal(pid, SIGKILL));
    // A detached pod's state stays for ps, logs and inspect, until rm.
    if (this.options.detached) this.dir?.removeRuntime();
    else this.dir?.remove();
    if (this.leased) await this.options.leases!.removeLease(this.id);
  }

  /** SIGTERM (or the image's StopSignal), then SIGKILL for what still runs at `deadline` (or at a second stop signal). */
  private async stopAll(slots: Slot[], deadline: number): Promise<void> {
    const running = slots.filter((s) => s.process);
    if (running.length === 0) return;
    for (const slot of running) {
      slot.stopped = true;
      this.signal(slot.process!.child.pid, slot.plan.stopSignal);
    }
    const allExited = Promise.all(running.map((s) => s.exited)).then(() => {});
    await within(Promise.race([allExited, this.killed]), Math.max(0, deadline - Date.now()), undefined);
    for (const slot of running) if (slot.process) this.signal(slot.process.child.pid, SIGKILL);
    await allExited;
  }

  /** Only ever our own children, by PID; one that is already gone is fine. */
  private signal(pid: number, sig: number): void {
    try {
      this.ctx.host.libc.kill(pid, sig);
    } catch (err) {
      if (!(err instanceof SyscallError && err.errno === ESRCH)) throw err;
    }
  }

  private saveState(): void {
    const containers = (slots: Slot[]): ContainerRecord[] => slots.map((s) => ({
      ...s.status,
      process: s.process ? processRef(s.process.child.pid) : null,
      exec: {
        env: s.plan.env, user: s.plan.user, workingDir: s.plan.workingDir,
        capabilities: s.plan.security.capabilities.toString(16), noNewPrivs: s.plan.security.noNewPrivs, seccomp: s.plan.security.seccomp,
      },
      cgroupProcs: [...(s.cgroup?.procs ?? [])],
    }));
    const record: PodRecord = {
      id: this.id,
      uid: this.plan.uid,
      name: this.plan.name,
      namespace: this.plan.namespace,
      detached: this.options.detached,
      supervisor: processRef(process.pid),
      phase: this.phase,
      reason: this.deadlineExceeded ? 'DeadlineExceeded' : this.failure ? 'Error' : null,
      message: this.failure?.message ?? null,
      exitCode: this.exitCode,
      createdAt: this.createdAt,
      finishedAt: this.finishedAt,
      manifest: this.options.manifest,
      pause: this.sandbox ? processRef(this.sandbox.pid) : null,
      cgroups: [...(this.cgroups?.dirs ?? this.cgroupDirs)],
      logDir: this.logDir,
      initContainers: containers(this.init),
      containers: containers(this.apps),
    };
    this.dir?.writeState(record);
  }
}
