/** Resolves with `value` of the first to settle; the timer never outlives the race. */
export async function within<T>(promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** setTimeout's longest delay (about 24.8 days); a longer one fires at once instead. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * A timer that may be longer than setTimeout allows: activeDeadlineSeconds
 * goes up to 2^31-1 seconds. Returns its cancel function.
 */
export function longTimeout(fn: () => void, ms: number): () => void {
  const end = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const left = end - Date.now();
    timer = left > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}
