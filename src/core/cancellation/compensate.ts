import type { CancelReason, OrderStatus } from '../domain/order-status.js';
import { HOLDS_RESERVATION } from '../domain/order-status.js';
import { lockStockOf, releaseStock, restockSold } from '../catalog/stock.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import { enqueue } from '../outbox/outbox.js';
import { notifyOrders } from '../notifications/notify-orders.js';
import { currentStatus, transition } from '../orders/transition.js';

export interface CancelOptions {
  reason: CancelReason;
  /** Statuses from which this cancellation is allowed. */
  allowedFrom: readonly OrderStatus[];
  /** Refuse when a charge has been attempted (customer cancel and reservation expiry). */
  refuseIfPaymentStarted?: boolean;
}

export type CancelOutcome = { cancelled: true; from: OrderStatus } | { cancelled: false; status: OrderStatus | undefined };

/**
 * Cancels an order and undoes what the pipeline did so far, in the caller's unit of work: releases
 * held stock, or puts a confirmed order's sold stock back (a `restock` movement) and withdraws its
 * unsent shipment, queues the settling of its money (refund, void) when a payment may exist, and writes the customer's
 * notification (with its webhooks and email). Guarded like every transition, so running it twice
 * cancels once.
 */
export async function cancelWithCompensation(uow: UnitOfWork, orderId: string, o: CancelOptions): Promise<CancelOutcome> {
  const trx = uow.trx;
  // Products before the order row, as every stock-changing transaction does (see lockStockOf).
  const lines = await lockStockOf(trx, [orderId]);
  const status = await currentStatus(trx, orderId);
  if (!status || !o.allowedFrom.includes(status)) return { cancelled: false, status };
  const payment = await trx.selectFrom('payments').select('status').where('order_id', '=', orderId).executeTakeFirst();
  const paymentStarted = payment !== undefined && payment.status !== 'declined';
  if (o.refuseIfPaymentStarted && paymentStarted) return { cancelled: false, status };

  // A confirmed order's shipment is withdrawn, unless a carrier update for it is already accepted
  // (then the goods are on their way and the order can no longer be cancelled).
  if (status === 'confirmed') {
    const withdrawn = await trx.deleteFrom('shipments').where('order_id', '=', orderId).where('status', '=', 'pending').where('requested_status', 'is', null).executeTakeFirst();
    if (Number(withdrawn.numDeletedRows) === 0) return { cancelled: false, status };
  }

  const moved = await transition(uow, orderId, status, 'cancelled', {
    reason: o.reason,
    patch: { cancel_reason: o.reason, reservation_expires_at: null },
  });
  if (!moved) return { cancelled: false, status: await currentStatus(trx, orderId) };

  if (HOLDS_RESERVATION.includes(status)) await releaseStock(uow, [orderId], o.reason, lines);
  // Sold but never shipped: the goods are still on the shelf.
  if (status === 'confirmed') await restockSold(uow, [orderId], o.reason, lines);
  // The money goes back by a message of its own: refunded if captured, the rest voided.
  if (paymentStarted && payment.status !== 'refunded' && payment.status !== 'voided') enqueue(uow, [{ topic: 'refund', orderId }]);
  await notifyOrders(uow, [orderId], 'order_cancelled');
  return { cancelled: true, from: status };
}
