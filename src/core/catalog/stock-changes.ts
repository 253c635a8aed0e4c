import type { Db } from '../outbox/outbox.js';

// Skus whose stock or price a transaction changed, keyed by the transaction object, so the code
// that started the transaction can invalidate cached reads once it has committed.
const changed = new WeakMap<object, Set<string>>();

/** Records, in the caller's transaction, that these products changed. */
export function noteStockChange(trx: Db, skus: Iterable<string>): void {
  let set = changed.get(trx);
  if (!set) changed.set(trx, (set = new Set()));
  for (const sku of skus) set.add(sku);
}

/** The skus a committed transaction changed (and forgets them). */
export function takeStockChanges(trx: Db): string[] {
  const set = changed.get(trx);
  changed.delete(trx);
  return set ? [...set] : [];
}
