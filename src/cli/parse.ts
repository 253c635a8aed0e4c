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
 * `--idempotency-key`: printable ASCII, as an HTTP header must be (a pasted `…` or a non-Latin
 * letter would otherwise fail deep inside the HTTP client).
 */
export function idempotencyKeyArg(value: string): string {
  if (!/^[\x20-\x7E]{1,255}$/.test(value)) {
    throw new InvalidArgumentError('expected 1 to 255 printable ASCII characters (letters, digits, punctuation), e.g. "$(uuidgen)"');
  }
  return value;
}

/** `--item SKU:QTY[:norestock]` of `return receive`, repeatable: what arrived, put back on hand unless `:norestock`. */
export function receivedItemArg(value: string, previous: { sku: string; quantity: number; restock: boolean }[] = []): { sku: string; quantity: number; restock: boolean }[] {
  const match = /^([^:\s]+):(\d+)(:norestock)?$/.exec(value.trim());
  const quantity = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(quantity)) {
    throw new InvalidArgumentError('expected SKU:QTY or SKU:QTY:norestock with a whole quantity, e.g. PT-DRL-18V:1 or PT-DRL-18V:1:norestock');
  }
  return [...previous, { sku: match[1]!, quantity, restock: match[3] === undefined }];
}
