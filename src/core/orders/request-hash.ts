import { createHash } from 'node:crypto';
import type { RequestedItem } from '../domain/pricing.js';

/**
 * Fingerprint of an order request for idempotency: the same items in the same order give the same
 * hash; key order inside an item and extra whitespace do not matter.
 */
export function orderRequestHash(items: readonly RequestedItem[]): string {
  const canonical = JSON.stringify(items.map((i) => [i.sku, i.quantity]));
  return createHash('sha256').update(canonical).digest('hex');
}
