import type { OrderStatus } from '../domain/order-status.js';
import type { Db } from '../outbox/outbox.js';
import { insertOrDefer } from '../db/deferred-inserts.js';

/** Appends one transition to an order's history. */
export async function recordHistory(
  trx: Db,
  orderId: string,
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string | null,
  now: number,
): Promise<void> {
  await insertOrDefer(trx, 'order_history', [{ order_id: orderId, from_status: from, to_status: to, reason, at: now }]);
}
