import { newTrackingCode } from '../ids.js';
import { reserveOrderStock, sellOrderStock } from '../catalog/stock.js';
import { releaseOrderStock } from '../catalog/stock.js';
import { recordHistory } from '../orders/history.js';
import { currentStatus, transition } from '../orders/transition.js';
import { enqueue, type Topic } from '../outbox/outbox.js';
import { cancelWithCompensation } from './compensate.js';
import { notificationText, type NotificationKind } from './notification-kinds.js';
import { paymentKey, type ChargeRequest, type ChargeResult } from './payment-gateway.js';
import type { Step } from './step.js';
import { fanOutNotification } from '../notifications/fan-out.js';
import { recordStockAfterSale } from '../webhooks/record-events.js';
import { applyShipmentUpdate, type ShipmentUpdateStatus } from '../shipments/shipments.js';

/** reserve: all lines or none; on a shortfall the order is cancelled as out of stock. */
export const reserveStep: Step = {
  changesStock: true,
  async apply(trx, msg, ctx) {
    // The guarded update both checks and claims the order, so a duplicate delivery stops here.
    const claimed = await trx
      .updateTable('orders')
      .set({ status: 'reserved', reservation_expires_at: ctx.now + ctx.reservationTtlMs, updated_at: ctx.now })
      .where('id', '=', msg.orderId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return;

    const { short } = await reserveOrderStock(trx, msg.orderId, ctx.now);
    if (short.length === 0) {
      await recordHistory(trx, msg.orderId, 'pending', 'reserved', null, ctx.now);
      await enqueue(trx, [{ topic: 'pay', orderId: msg.orderId }], ctx.now);
      return;
    }
    await trx
      .updateTable('orders')
      .set({ status: 'cancelled', cancel_reason: 'out_of_stock', reservation_expires_at: null })
      .where('id', '=', msg.orderId)
      .execute();
    await recordHistory(trx, msg.orderId, 'pending', 'cancelled', 'out_of_stock', ctx.now);
    await enqueue(trx, [{ topic: 'notify', orderId: msg.orderId, payload: { kind: 'order_cancelled' } }], ctx.now);
  },
};

/**
 * pay: a pending payment row is written before the provider is called, so a customer cancel or a
 * reservation expiry can see that a charge may exist and leave the order alone.
 */
export const payStep: Step<ChargeRequest, ChargeResult> = {
  changesStock: true, // a decline releases the reservation
  async prepare(trx, msg, ctx) {
    const order = await trx.selectFrom('orders').select(['status', 'total_cents']).where('id', '=', msg.orderId).executeTakeFirst();
    if (order?.status !== 'reserved') return null;
    const key = paymentKey(msg.orderId);
    await trx
      .insertInto('payments')
      .values({
        order_id: msg.orderId,
        idempotency_key: key,
        amount_cents: order.total_cents,
        status: 'pending',
        provider_ref: null,
        created_at: ctx.now,
        updated_at: ctx.now,
      })
      // Any conflict, not just on order_id: a concurrent copy of this message may hit the
      // idempotency_key index first (Postgres raises it unless the insert names no arbiter).
      .onConflict((oc) => oc.doNothing())
      .execute();
    return { idempotencyKey: key, amountCents: order.total_cents };
  },
  perform(plan, ctx) {
    return ctx.gateway.charge(plan);
  },
  async apply(trx, msg, ctx, plan, result) {
    if (!plan || !result) return;
    await trx
      .updateTable('payments')
      .set({ status: result.outcome, provider_ref: result.providerRef, updated_at: ctx.now })
      .where('order_id', '=', msg.orderId)
      .where('status', '=', 'pending')
      .execute();
    if (result.outcome === 'captured') {
      if (await transition(trx, msg.orderId, 'reserved', 'paid', ctx.now)) {
        await enqueue(trx, [{ topic: 'confirm', orderId: msg.orderId }], ctx.now);
      } else if ((await currentStatus(trx, msg.orderId)) === 'cancelled') {
        // Cancelled (dead-lettered) while the charge was in flight: the money goes back.
        await enqueue(trx, [{ topic: 'refund', orderId: msg.orderId }], ctx.now);
      }
      return;
    }
    const moved = await transition(trx, msg.orderId, 'reserved', 'cancelled', ctx.now, {
      reason: 'payment_declined',
      patch: { cancel_reason: 'payment_declined', reservation_expires_at: null },
    });
    if (!moved) return;
    await releaseOrderStock(trx, msg.orderId, 'payment_declined', ctx.now);
    await enqueue(trx, [{ topic: 'notify', orderId: msg.orderId, payload: { kind: 'order_cancelled' } }], ctx.now);
  },
};

/** confirm: the reservation becomes a sale and a shipment with a unique tracking code is created. */
export const confirmStep: Step = {
  changesStock: true,
  async apply(trx, msg, ctx) {
    const moved = await transition(trx, msg.orderId, 'paid', 'confirmed', ctx.now, { patch: { reservation_expires_at: null } });
    if (!moved) return;
    await sellOrderStock(trx, msg.orderId, ctx.now);
    await recordStockAfterSale(trx, msg.orderId, ctx.now);
    await trx
      .insertInto('shipments')
      .values({ order_id: msg.orderId, tracking_code: newTrackingCode(), status: 'pending', created_at: ctx.now, updated_at: ctx.now })
      .execute();
    await enqueue(trx, [{ topic: 'notify', orderId: msg.orderId, payload: { kind: 'order_confirmed' } }], ctx.now);
  },
};

/** notify: one notification per order and kind, enforced by a unique key. */
export const notifyStep: Step = {
  async apply(trx, msg, ctx) {
    const kind = msg.payload.kind as NotificationKind;
    const order = await trx.selectFrom('orders').select(['reference', 'cancel_reason']).where('id', '=', msg.orderId).executeTakeFirst();
    if (!order) return;
    const res = await trx
      .insertInto('notifications')
      .values({ order_id: msg.orderId, kind, message: notificationText(kind, order.reference, order.cancel_reason), created_at: ctx.now })
      .onConflict((oc) => oc.columns(['order_id', 'kind']).doNothing())
      .executeTakeFirst();
    // Webhooks and email go out once, with the notification: a redelivered message inserted nothing.
    if (Number(res.numInsertedOrUpdatedRows ?? 0) > 0) {
      await fanOutNotification(trx, { orderId: msg.orderId, kind, sourceMessageId: msg.id, now: ctx.now }, ctx.channels);
    }
  },
};

/** refund: gives back a charge of a cancelled order; the provider refunds a key at most once. */
export const refundStep: Step<string, void> = {
  async prepare(trx, msg) {
    const payment = await trx.selectFrom('payments').select(['status', 'idempotency_key']).where('order_id', '=', msg.orderId).executeTakeFirst();
    return payment && payment.status !== 'declined' ? payment.idempotency_key : null;
  },
  perform(key, ctx) {
    return ctx.gateway.refund(key);
  },
  async apply(trx, msg, ctx, key) {
    if (!key) return;
    await trx
      .updateTable('payments')
      .set({ status: 'refunded', updated_at: ctx.now })
      .where('order_id', '=', msg.orderId)
      .where('status', 'in', ['pending', 'captured'])
      .execute();
  },
};

/**
 * ship / deliver: applies a carrier update accepted by the API. The shipment moves only from the
 * status before it and only if this update was the one requested, so a redelivered message changes
 * nothing; the order follows (confirmed → shipped → delivered) and the customer is notified.
 */
function shipmentStep(to: ShipmentUpdateStatus): Step {
  const orderFrom = to === 'shipped' ? 'confirmed' : 'shipped';
  return {
    async apply(trx, msg, ctx) {
      if (!(await applyShipmentUpdate(trx, msg.orderId, to, ctx.now))) return;
      await transition(trx, msg.orderId, orderFrom, to, ctx.now);
      await enqueue(trx, [{ topic: 'notify', orderId: msg.orderId, payload: { kind: `order_${to}` } }], ctx.now);
    },
  };
}

export const shipStep = shipmentStep('shipped');
export const deliverStep = shipmentStep('delivered');

export const STEPS: Record<Topic, Step<any, any>> = {
  reserve: reserveStep,
  pay: payStep,
  confirm: confirmStep,
  notify: notifyStep,
  refund: refundStep,
  ship: shipStep,
  deliver: deliverStep,
};

/**
 * What a message that can no longer be delivered does to its order: if the pipeline still owes the
 * order work, the order is compensated and cancelled with reason `failed`.
 */
export async function compensateDeadLetter(trx: Parameters<Step['apply']>[0], orderId: string, now: number): Promise<void> {
  await cancelWithCompensation(trx, orderId, { reason: 'failed', allowedFrom: ['pending', 'reserved', 'paid'] }, now);
}
