import { DEFAULTS } from '../defaults.js';

/** What BUILDFLOW_WEBHOOK_RETRY_SCHEDULE accepts: durations like `0`, `250`, `5s`, `5m`, `2h`, comma-separated. */
export const RETRY_SCHEDULE_PATTERN = '^\\s*\\d+(ms|s|m|h)?\\s*(,\\s*\\d+(ms|s|m|h)?\\s*)*$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a schedule in the form of {@link RETRY_SCHEDULE_PATTERN} into milliseconds. */
export function parseRetrySchedule(text: string): number[] {
  return text.split(',').map((part) => {
    const m = /^(\d+)(ms|s|m|h)?$/.exec(part.trim());
    if (!m) throw new Error(`not a duration: ${part}`);
    return Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  });
}

/** `delay` moved by up to ±20 %, so retries of many deliveries to one failing endpoint spread out. */
export function jittered(delayMs: number, random = Math.random): number {
  return Math.max(0, Math.round(delayMs * (0.8 + 0.4 * random())));
}

const MAX_RETRY_AFTER_MS = DEFAULTS.deliveries.maxRetryAfterMs;

/**
 * The wait a `Retry-After` header asks for (RFC 9110: seconds, or an HTTP date), in ms; undefined
 * when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
