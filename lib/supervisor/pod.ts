import { readFileSync } from 'node:fs';
import { type ContainerProcess, startContainer } from '../container/start.ts';
import type { RuntimeContext } from '../context.ts';
import { MinipodError, wrapError } from '../errors.ts';
import { forEachLine } from '../logs/lines.ts';
import { type Sandbox, startSandbox } from '../sandbox/sandbox.ts';
import type { ContainerPlan, PodPlan } from '../spec/plan-types.ts';
import { PodDir } from '../state/pod-dir.ts';
import { SIGKILL, SIGTERM } from '../sys/constants.ts';
import { ESRCH } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import { type ExitStatus, exitCodeOf } from '../sys/process.ts';
import { Backoff, shouldRestart } from './restart.ts';

export interface PodEvents {
  /** One line a container wrote, without its newline. */
  line(container: string, stream: 'stdout' | 'stderr', text: string): void;
  /** Something the user should know about the pod: a start failure, a restart. */
  notice(message: string): void;
}

export interface SuperviseOptions {
  stateRoot: string;
  /** Overrides spec.terminationGracePeriodSeconds. */
  graceSeconds?: number;
  /** First restart delay; kubelet's is 10 s. */
  backoffSeconds: number;
  events: PodEvents;
}

/**
 * kubelet's reasons for a terminated container: Completed for exit 0, Error
 * otherwise (a container stopped with the pod included: 143 after SIGTERM,
 * 137 after SIGKILL), ContainerCannotRun when its command could not be executed.
 */
export type ContainerReason = 'Completed' | 'Error' | 'ContainerCannotRun';

/** One run of a container that has ended; times in ms since the epoch. */
export interface Termination {
  exitCode: number;
  reason: ContainerReason;
  /** Why it could not run (the exec error), for ContainerCannotRun. */
  message: string | null;
  startedAt: number;
  finishedAt: number;
}

export interface ContainerStatus {
  name: string;
  /** The image as the manifest wrote it. */
  image: string;
  restarts: number;
  /** waiting: ended and due to restart (kubelet's CrashLoopBackOff). */
  state: 'waiting' | 'running' | 'terminated';
  /** When the current run started, while running. */
  startedAt: number | null;
  /** The run that ended last, and the one before it (kubelet's lastState of a terminated container). */
  last: Termination | null;
  previous: Termination | null;
}

export interface PodResult {
  id: string;
  name: string;
  phase: 'Succeeded' | 'Failed';
  /** 0 when every container exited 0; else the first failure's code, or 128+signal when minipod was stopped. */
  exitCode: number;
  /** When the pod started and ended, in ms since the epoch. */
  startedAt: number;
  finishedAt: number;
  containers: ContainerStatus[];
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNALS;

interface Slot {
  plan: ContainerPlan;
  status: ContainerStatus;
  process: ContainerProcess | null;
  /** Resolves when the current process has exited and its exit was handled. */
  exited: Promise<void>;
  startedAt: number;
  backoff: Backoff;
  restartTimer: ReturnType<typeof setTimeout> | null;
  done: boolean;
  output: Promise<void>[];
}

function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `killed by signal ${status.signal}` : `exit ${status.code}`;
}

/** Resolves with `value` of the first to settle; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one pod in the foreground: sandbox, containers, their output, their
 * exits and restarts, and a teardown that leaves nothing behind on every
 * path out (success, failure, signal, or an error halfway through start).
 */
export class PodSupervisor {
  // The kernel's UUID source: node:crypto would cost more to load than the whole pod start-up step.
  readonly id = readFileSync('/proc/sys/kernel/random/uuid', 'latin1').replaceAll('-', '').slice(0, 12);
  private readonly slots: Slot[];
  private dir: PodDir | null = null;
  private sandbox: Sandbox | null = null;
  private stopSignal: StopSignal | null = null;
  private failure: MinipodError | null = null;
  /** A pod that never finished starting has nothing to shut down gracefully: no grace period. */
  private startFailed = false;
  private firstFailedCode: number | null = null;
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));
  private killNow: () => void = () => {};

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly plan: PodPlan,
    private readonly options: SuperviseOptions,
  ) {
    this.slots = plan.containers.map((c) => ({
      plan: c,
      status: {
        name: c.name, image: c.image, restarts: 0, state: 'waiting', startedAt: null, last: null, previous: null,
      },
      process: null,
      exited: Promise.resolve(),
      startedAt: 0,
      backoff: new Backoff(options.backoffSeconds),
      restartTimer: null,
      done: false,
      output: [],
    }));
  }

  async run(): Promise<PodResult> {
    const startedAt = Date.now();
    try {
      this.dir = PodDir.create(this.options.stateRoot, this.id);
      this.sandbox = startSandbox(this.ctx, { hostname: this.plan.hostname, shmDir: this.dir.shm });
      void this.sandbox.child.exited.then((status) => {
        if (this.stopSignal || this.isFinished()) return;
        this.fail(new MinipodError(`the pod sandbox (pause) exited unexpectedly (${describeExit(status)})`));
      });
      for (const slot of this.slots) this.start(slot);
      this.saveState();
    } catch (err) {
      this.startFailed = true;
      this.fail(wrapError(`start pod "${this.plan.name}"`, err));
    }
    await this.finished;
    await this.teardown();
    if (this.failure) throw this.failure;
    const exitCode = this.stopSignal ? 128 + SIGNALS[this.stopSignal] : (this.firstFailedCode ?? 0);
    return {
      id: this.id,
      name: this.plan.name,
      startedAt,
      finishedAt: Date.now(),
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      exitCode,
      containers: this.slots.map((s) => s.status),
    };
  }

  /** SIGINT/SIGTERM: stop every container within the grace period. A second call kills at once. */
  stop(signal: StopSignal): void {
    if (this.stopSignal || this.failure) {
      this.killNow();
      return;
    }
    this.stopSignal = signal;
    this.finish();
  }

  private isFinished(): boolean {
    return this.slots.every((s) => s.done);
  }

  private fail(err: MinipodError): void {
    this.failure ??= err;
    this.finish();
  }

  private start(slot: Slot): void {
    const { plan } = slot;
    const process = startContainer(this.ctx, this.sandbox!, { sharePid: this.plan.sharePid, shmDir: this.dir!.shm }, plan);
    slot.process = process;
    slot.startedAt = Date.now();
    slot.status.state = 'running';
    slot.status.startedAt = slot.startedAt;
    const { events } = this.options;
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = process.child[stream];
      if (source) slot.output.push(forEachLine(source, (text) => events.line(plan.name, stream, text)));
    }
    slot.exited = process.child.exited.then((status) => this.onExit(slot, process, exitCodeOf(status)));
  }

  private onExit(slot: Slot, process: ContainerProcess, exitCode: number): void {
    slot.process = null;
    const startError = process.takeStartError();
    const { status } = slot;
    const reason = startError ? 'ContainerCannotRun' : exitCode === 0 ? 'Completed' : 'Error';
    status.previous = status.last;
    status.last = { exitCode, reason, message: startError, startedAt: slot.startedAt, finishedAt: Date.now() };
    status.state = 'terminated';
    status.startedAt = null;
    if (startError) this.options.events.notice(`container "${status.name}": ${startError}`);
    if (this.stopSignal || this.failure) return;

    if (shouldRestart(this.plan.restartPolicy, exitCode)) {
      const delay = slot.backoff.next((Date.now() - slot.startedAt) / 1000);
      this.options.events.notice(
        `container "${status.name}" exited with ${exitCode}; restarting in ${delay}s (restartPolicy ${this.plan.restartPolicy})`,
      );
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
      return;
    }
    slot.done = true;
    if (exitCode !== 0) this.firstFailedCode ??= exitCode;
    if (this.isFinished()) this.finish();
  }

  private async teardown(): Promise<void> {
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
    }
    const running = this.slots.filter((s) => s.process);
    if (running.length) {
      const grace = this.startFailed ? 0 : (this.options.graceSeconds ?? this.plan.terminationGracePeriodSeconds);
      for (const slot of running) this.signal(slot.process!.child.pid, SIGTERM);
      const allExited = Promise.all(running.map((s) => s.exited)).then(() => {});
      const killNow = new Promise<void>((resolve) => (this.killNow = resolve));
      await within(Promise.race([allExited, killNow]), grace * 1000, undefined);
      for (const slot of running) if (slot.process) this.signal(slot.process.child.pid, SIGKILL);
      await allExited;
    }
    if (this.sandbox) {
      // The pause exits 0 on SIGTERM; as PID 1 of the pod's PID namespace its
      // exit takes every process left in that namespace with it.
      const pause = this.sandbox.child;
      this.signal(this.sandbox.pid, SIGTERM);
      const gone = await within(pause.exited.then(() => true), 2000, false);
      if (!gone) this.signal(this.sandbox.pid, SIGKILL);
      await pause.exited;
    }
    await Promise.all(this.slots.flatMap((s) => s.output));
    this.dir?.remove();
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
    this.dir?.writeState({
      id: this.id,
      name: this.plan.name,
      namespace: this.plan.namespace,
      pausePid: this.sandbox?.pid ?? null,
      containers: this.slots.map((s) => ({ ...s.status, pid: s.process?.child.pid ?? null })),
    });
  }
}
