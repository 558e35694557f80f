import { cgroupArgs } from '../cgroup/join.ts';
import type { RuntimeContext } from '../context.ts';
import type { UserPlan } from '../spec/plan-types.ts';
import { O_CLOEXEC, O_NONBLOCK } from '../sys/constants.ts';
import { EAGAIN } from '../sys/errno.ts';
import { SyscallError } from '../sys/libc.ts';
import { defaultFilterArg } from '../security/filter-arg.ts';

/**
 * What the runtime hands the exec helper as inherited descriptors: the
 * status pipe its exec failures come back on (-s), and the cgroup.procs
 * files it joins (-c). The runtime keeps its own until the child is gone:
 * the status pipe's write end, so that reading it never blocks.
 */
export class HelperChannels {
  private constructor(
    private readonly ctx: RuntimeContext,
    private readonly statusRead: number,
    private readonly statusWrite: number,
    private readonly cgroups: { args: string[]; fds: readonly number[]; close(): void },
  ) {}

  static open(ctx: RuntimeContext, cgroupProcs: readonly string[]): HelperChannels {
    const { libc } = ctx.host;
    const [statusRead, statusWrite] = libc.pipe2(O_CLOEXEC | O_NONBLOCK);
    try {
      return new HelperChannels(ctx, statusRead, statusWrite, cgroupArgs(ctx, cgroupProcs));
    } catch (err) {
      libc.close(statusRead);
      libc.close(statusWrite);
      throw err;
    }
  }

  get args(): string[] {
    return ['-s', String(this.statusWrite), ...this.cgroups.args];
  }

  /** What the helper inherits for `args`. */
  get fds(): number[] {
    return [this.statusWrite, ...this.cgroups.fds];
  }

  /** After the child exited: the helper's failure message, or null if it reached exec. Closes everything. */
  takeStartError(): string | null {
    try {
      const buf = new Uint8Array(4096);
      const n = this.ctx.host.libc.read(this.statusRead, buf);
      return new TextDecoder().decode(buf.subarray(0, n)).trim() || null;
    } catch (err) {
      if (err instanceof SyscallError && err.errno === EAGAIN) return null;
      throw err;
    } finally {
      this.close();
    }
  }

  close(): void {
    const { libc } = this.ctx.host;
    libc.close(this.statusRead);
    libc.close(this.statusWrite);
    this.cgroups.close();
  }
}

/** minipod-init's options for what the process may do: capabilities, no_new_privs, the seccomp filter (an exec'd command gets its container's). */
export function privilegeArgs(security: { capabilities: string; noNewPrivs: boolean; seccomp: boolean }): string[] {
  return ['-C', security.capabilities, ...(security.noNewPrivs ? ['-n'] : []), ...(security.seccomp ? ['-S', defaultFilterArg()] : [])];
}

/** minipod-init's options for the process's user: the switch happens in the child. */
export function userArgs({ uid, gid, groups }: UserPlan): string[] {
  return ['-u', String(uid), '-g', String(gid), ...(groups.length ? ['-G', groups.join(',')] : [])];
}
