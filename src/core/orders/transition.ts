import { BuildflowError } from '../errors.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OrdersTable } from '../db/schema.js';
import type { Db } from '../outbox/outbox.js';
import { recordHistory } from './history.js';

export interface TransitionOptions {
  reason?: string | null;
  /** Other order columns to change with the status. */
  patch?: Partial<Pick<OrdersTable, 'cancel_reason' | 'reservation_expires_at'>>;
}

/**
 * Moves an order from exactly `from` to `to` and records it in the history, guarded by the current
 * status (`UPDATE … WHERE status = from`), so a redelivered or racing step changes nothing.
 * Returns false when the order was not in `from`.
 */
export async function transition(
  trx: Db,
  orderId: string,
  from: OrderStatus,
  to: OrderStatus,
  now: number,
  options: TransitionOptions = {},
): Promise<boolean> {
  const res = await trx
    .updateTable('orders')
    .set({ status: to, updated_at: now, ...options.patch })
    .where('id', '=', orderId)
    .where('status', '=', from)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return false;
  await recordHistory(trx, orderId, from, to, options.reason ?? null, now);
  return true;
}

/** Current status of an order, or undefined if there is no such order. */
export async function currentStatus(trx: Db, orderId: string): Promise<OrderStatus | undefined> {
  const row = await trx.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst();
  return row?.status;
}

/** Like {@link currentStatus} but an unknown order is an error. */
export async function requireStatus(trx: Db, orderId: string): Promise<OrderStatus> {
  const status = await currentStatus(trx, orderId);
  if (!status) throw new BuildflowError('ORDER_NOT_FOUND', `order ${orderId} not found`);
  return status;
}
