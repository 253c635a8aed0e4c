import type { OrderStatus } from '../domain/order-status.js';
import type { Db } from '../outbox/outbox.js';
import { insertOrDefer } from '../db/deferred-inserts.js';
import { noteOrderFinal } from '../observe/order-finals.js';

/**
 * Appends one transition to an order's history. Every status change writes one, so this is where a
 * final state is noted for the metrics and logs reported after the transaction commits.
 */
export async function recordHistory(
  trx: Db,
  orderId: string,
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string | null,
  now: number,
): Promise<void> {
  noteOrderFinal(trx, orderId, to, reason, now);
  await insertOrDefer(trx, 'order_history', [{ order_id: orderId, from_status: from, to_status: to, reason, at: now }]);
}
