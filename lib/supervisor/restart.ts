import type { RestartPolicy } from '../spec/plan-types.ts';

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** kubelet's numbers: the delay doubles up to five minutes and resets after ten minutes of clean running. */
export const MAX_BACKOFF_SECONDS = 300;
export const BACKOFF_RESET_SECONDS = 600;

export class Backoff {
  private current: number;
  constructor(private readonly initialSeconds: number) {
    this.current = initialSeconds;
  }

  /** The delay before the next restart of a container that ran `ranSeconds`. */
  next(ranSeconds: number): number {
    if (ranSeconds >= BACKOFF_RESET_SECONDS) this.current = this.initialSeconds;
    const delay = this.current;
    this.current = Math.min(this.current * 2, MAX_BACKOFF_SECONDS);
    return delay;
  }
}
