import type { RuntimeContext } from '../context.ts';
import { MinipodError } from '../errors.ts';
import type { PodPlan } from '../spec/plan-types.ts';
import { withLock } from '../state/lock.ts';
import { listPods } from '../state/store.ts';
import { PodSupervisor, type SuperviseOptions } from './pod.ts';
import type { PodResult } from './status.ts';

/**
 * Start a pod under the state root's lock, so that two pods never take the
 * same name: the lock is held until the pod's state file exists (the
 * synchronous part of run()), not while it runs.
 */
export async function launchPod(ctx: RuntimeContext, plan: PodPlan, options: SuperviseOptions): Promise<{ supervisor: PodSupervisor; done: Promise<PodResult> }> {
  return withLock(ctx.host.libc, options.stateRoot, () => {
    const taken = listPods(options.stateRoot).find((p) => p.name === plan.name);
    if (taken) {
      throw new MinipodError(`pod name "${plan.name}" is already in use by pod ${taken.id} (${taken.phase}): remove it with minipod rm ${plan.name}, or choose another with --name`);
    }
    const supervisor = new PodSupervisor(ctx, plan, options);
    const done = supervisor.run();
    return { supervisor, done };
  });
}
