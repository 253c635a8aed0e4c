import { InvalidArgumentError } from '@commander-js/extra-typings';

const TIME_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Milliseconds of "250ms", "2s", "1.5m", "900us"; a bare number is milliseconds. Undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m)?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * TIME_UNITS[m[2] ?? 'ms']!;
}

/** A share in 0..1 from "0.1%", "5%" or "0.05". Undefined when malformed. */
export function parseShare(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(text);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/** A commander parser for a duration flag ("30s"); a bare number is refused, since "--duration 30" reads both ways. */
export function durationArg(value: string): number {
  const ms = /\d\s*$/.test(value) ? undefined : parseDurationMs(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration with a unit, e.g. 500ms, 10s, 2m');
  return ms;
}

/** A commander parser for a share flag in 0..1 ("5%" or "0.05"). */
export function shareArg(value: string): number {
  const share = parseShare(value);
  if (share === undefined || share > 1) throw new InvalidArgumentError('expected a share from 0 to 1, e.g. 0.05 or 5%');
  return share;
}

/** A commander parser for a positive number (a rate). */
export function positiveArg(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Collects a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** "1.23 ms" / "1.50 s" for people. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(ms >= 10 ? 1 : 2)} ms`;
}
