import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { RequestedItem } from '../core/domain/pricing.js';

/** A commander parser for an integer flag within `min..max`. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** Collects repeated `--item SKU:QTY` flags. */
export function itemArg(value: string, previous: RequestedItem[] = []): RequestedItem[] {
  const match = /^([^:\s]+):(\d+)$/.exec(value.trim());
  const quantity = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(quantity) || quantity < 1) {
    throw new InvalidArgumentError('expected SKU:QTY with a whole quantity of at least 1, e.g. PT-DRL-18V:2');
  }
  return [...previous, { sku: match[1]!, quantity }];
}

/**
 * A commander parser for a duration flag ("2s", "1500ms", "1m", or a bare number of seconds),
 * in ms, at least `minMs`.
 */
export function durationArg(minMs: number): (value: string) => number {
  return (value) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
    const ms = match ? Math.round(Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000)) : NaN;
    if (!Number.isSafeInteger(ms) || ms < minMs) {
      throw new InvalidArgumentError(`expected a duration of at least ${minMs / 1000}s, e.g. 2s, 1500ms or 1m`);
    }
    return ms;
  };
}
