/**
 * Bounds on waits for another system (a database, Redis): a call that neither answers nor fails
 * must not hold its caller forever.
 */

/** Thrown by {@link withTimeout} when the bound passes first. */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${formatDuration(ms)}`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles with `promise`, or rejects with {@link TimeoutError} once `ms` have passed. The
 * timer does not keep the process alive.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A duration for people: "800 ms", "45 s", "12 min", "3 h", "2 d". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
