// Every error a user can cause, or the machine can refuse, is a MinipodError:
// the CLI prints its message (and its causes) as one line and exits with its
// code, never a stack trace. Anything else reaching the top is a bug.

export class MinipodError extends Error {
  /** 125 is what podman and docker use for "the runtime itself failed". */
  readonly exitCode: number;
  constructor(message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 125;
  }
}

/** Prefix the context of the caller, as crun_error_wrap does: `start container "web": mount(...): EPERM`. */
export function wrapError(context: string, err: unknown): MinipodError {
  if (err instanceof MinipodError) {
    return new MinipodError(`${context}: ${err.message}`, { cause: err, exitCode: err.exitCode });
  }
  return new MinipodError(`${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
