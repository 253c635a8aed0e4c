const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** What every duration flag and setting says when it refuses a value. */
export const DURATION_EXPECTED = 'expected a duration such as 5s or 500ms';

/**
 * Milliseconds of a duration with a unit ("500ms", "5s", "2m", "1h", "1.5s"); a bare number is read
 * in `bareUnit` (the old spellings of `--timeout`, `--timeout-ms` and `BUILDFLOW_TIMEOUT`), or refused
 * when `bareUnit` is undefined. Undefined when malformed.
 */
export function parseDuration(text: string, bareUnit?: 's' | 'ms'): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] ?? bareUnit;
  if (unit === undefined) return undefined;
  const ms = Math.round(Number(m[1]) * UNIT_MS[unit]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration as a person reads it: "5s", "500ms", "2m", "1.5s". */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
