/**
 * How one check came out.
 * - `ok`: nothing to do.
 * - `warn`: the deployment works, but a person should look (work waiting longer than it should).
 * - `fail`: the deployment is broken or unsafe: doctor reports it unhealthy.
 * - `skip`: the check does not apply (Redis not configured) or cannot run because a check it
 *   depends on failed; that check carries the failure, so a skip never makes a report unhealthy.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** The checks doctor runs, in the order it reports them. */
export const CHECK_NAMES = [
  'database',
  'migrations',
  'outbox-backlog',
  'workers',
  'stuck-orders',
  'stock-reconciliation',
  'money-reconciliation',
  'redis',
  'redis-persistence',
  'redis-eviction',
] as const;

/** The name of one check, as reported and as scripts select it. */
export type CheckName = (typeof CHECK_NAMES)[number];

/** The result of one check. */
export interface DoctorCheck {
  name: CheckName;
  status: CheckStatus;
  /** One line a person can act on: what was found and, when it is not ok, what to do. */
  detail: string;
  /** What was measured, for scripts: counts, ages in ms, the settings read. */
  data?: Record<string, unknown>;
}

// One timeout helper for the whole code base; doctor's names kept for its callers.
export { TimeoutError as DoctorTimeoutError, formatDuration, withTimeout } from '../timeout.js';

/**
 * One printable line for any error: its message's first line, else its code (Node's connection
 * errors to a name with several addresses are AggregateErrors with an empty message).
 */
export function errorLine(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0 && !err.message) return errorLine(err.errors[0]);
  if (err instanceof Error) {
    const first = err.message.split('\n').find((l) => l.trim() !== '')?.trim();
    if (first) return first;
    const code = (err as NodeJS.ErrnoException).code;
    return code ?? err.name;
  }
  return String(err);
}

/** A URL fit to print: scheme, host, port and path, never credentials or query options. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A check that could not run because `reason`. */
export function skipped(name: CheckName, reason: string): DoctorCheck {
  return { name, status: 'skip', detail: `skipped: ${reason}` };
}
