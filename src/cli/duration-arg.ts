import { InvalidArgumentError } from '@commander-js/extra-typings';
import { DURATION_EXPECTED, formatDuration, parseDuration } from '../core/duration.js';

export interface DurationFlag {
  /** The flag, for the deprecation note. */
  flag: string;
  /** The unit an old bare number was read in; unset: a bare number is refused. */
  bareUnit?: 's' | 'ms';
  minMs: number;
  maxMs?: number;
  /** The flag's new name, when this spelling is an old one kept for a while. */
  renamedTo?: string;
  /** What the parsed value is in. */
  to: 's' | 'ms';
}

/**
 * A commander parser for a duration flag: a value with a unit ("5s", "500ms", "2m"), the one
 * convention of every command. Where the flag once took a bare number, that still works, with a
 * one-line deprecation note on stderr.
 */
export function durationFlag(o: DurationFlag): (value: string) => number {
  const range = o.maxMs === undefined ? `at least ${formatDuration(o.minMs)}` : `from ${formatDuration(o.minMs)} to ${formatDuration(o.maxMs)}`;
  return (value) => {
    const bare = /^\s*\d+(\.\d+)?\s*$/.test(value);
    const ms = parseDuration(value, o.bareUnit);
    if (ms === undefined || ms < o.minMs || (o.maxMs !== undefined && ms > o.maxMs)) {
      throw new InvalidArgumentError(`${DURATION_EXPECTED}, ${range}`);
    }
    if (o.renamedTo !== undefined) {
      process.stderr.write(`buildflow: ${o.flag} is deprecated; write ${o.renamedTo} ${formatDuration(ms)}\n`);
    } else if (bare) {
      process.stderr.write(`buildflow: ${o.flag} ${value.trim()} without a unit is deprecated; write ${o.flag} ${formatDuration(ms)}\n`);
    }
    return o.to === 's' ? ms / 1000 : ms;
  };
}
