import { newTrackingCode } from '../ids.js';
import { lockStockOf, orderLines, planReservations, releaseStock, reserveStock, sellStock, type Line } from '../catalog/stock.js';
import { inSet, insertRows, rowSet } from '../db/sets.js';
import { sql } from 'kysely';
import type { OrderStatus } from '../domain/order-status.js';
import { currentStatuses, transition, transitionMany } from '../orders/transition.js';
import { enqueue, type OutboxMessage, type Topic } from '../outbox/outbox.js';
import type { NotificationKind } from '../domain/notification-kinds.js';
import { paymentKey, type ChargeRequest, type ChargeResult } from './payment-gateway.js';
import type { Moved, Step } from './step.js';
import { notifyOrders } from '../notifications/notify-orders.js';
import { recordStockAfterSales } from '../webhooks/record-events.js';
import { applyShipmentUpdate, type ShipmentUpdateStatus } from '../shipments/shipments.js';

const orderIdsOf = (msgs: readonly { msg: OutboxMessage }[] | readonly OutboxMessage[]): string[] => [
  ...new Set(msgs.map((m) => ('msg' in m ? m.msg.orderId : m.orderId))),
];

function moved(...groups: [readonly string[], OrderStatus][]): Moved {
  const out: Moved = new Map();
  for (const [ids, status] of groups) for (const id of ids) out.set(id, status);
  return out;
}

/**
 * reserve: all lines of an order or none; an order that does not fit is cancelled as out of stock
 * (and told so in the same unit). For the whole batch: the pending orders' lines (one read), which
 * orders fit the stock available under the products' row locks (one read, which takes them in sku
 * order), two guarded transitions and one conditional reservation of the per-product sums.
 */
export const reserveStep: Step = {
  async apply(uow, items, ctx) {
    const trx = uow.trx;
    const pending = await trx.selectFrom('orders').select('id').where(inSet(trx, 'id', orderIdsOf(items))).where('status', '=', 'pending').orderBy('id').execute();
    if (pending.length === 0) return;
    const lines = await orderLines(trx, pending.map((o) => o.id));
    const wanted = new Map<string, Line[]>(pending.map((o) => [o.id, lines.get(o.id) ?? []]));
    const { fit, short } = await planReservations(trx, wanted);
    const reserved = await transitionMany(uow, fit, 'pending', 'reserved', { patch: { reservation_expires_at: ctx.now + ctx.reservationTtlMs } });
    await reserveStock(uow, new Map(reserved.map((id) => [id, wanted.get(id)!])));
    const cancelled = await transitionMany(uow, short, 'pending', 'cancelled', {
      reason: 'out_of_stock',
      patch: { cancel_reason: 'out_of_stock', reservation_expires_at: null },
    });
    await notifyOrders(uow, cancelled, 'order_cancelled');
    return moved([reserved, 'reserved'], [cancelled, 'cancelled']);
  },
};

/**
 * pay: a pending payment row is written before the provider is called, so a customer cancel or a
 * reservation expiry can see that a charge may exist and leave the order alone. No product is
 * locked unless a payment was declined (then its reservation goes back).
 */
export const payStep: Step<ChargeRequest, ChargeResult> = {
  async prepare(uow, msgs) {
    const trx = uow.trx;
    const orders = await trx.selectFrom('orders').select(['id', 'status', 'total_cents']).where(inSet(trx, 'id', orderIdsOf(msgs))).execute();
    const reserved = new Map(orders.filter((o) => o.status === 'reserved').map((o) => [o.id, Number(o.total_cents)]));
    // Any conflict, not just on order_id: a concurrent copy of this message may hit the
    // idempotency_key index first (Postgres raises it unless the insert names no arbiter).
    await insertRows(
      trx,
      'payments',
      [...reserved].map(([orderId, amount]) => ({
        order_id: orderId,
        idempotency_key: paymentKey(orderId),
        amount_cents: amount,
        status: 'pending' as const,
        provider_ref: null,
        created_at: uow.now,
        updated_at: uow.now,
      })),
      { ignoreConflicts: true },
    );
    return new Map(
      msgs.map((m) => {
        const amount = reserved.get(m.orderId);
        return [m.id, amount === undefined ? null : { idempotencyKey: paymentKey(m.orderId), amountCents: amount }];
      }),
    );
  },
  perform(plan, ctx) {
    return ctx.gateway.charge(plan);
  },
  performAll(plans, ctx) {
    return ctx.gateway.chargeAll ? ctx.gateway.chargeAll(plans) : Promise.all(plans.map((p) => ctx.gateway.charge(p)));
  },
  async apply(uow, items) {
    const done = new Map<string, ChargeResult>();
    for (const { msg, plan, outcome } of items) if (plan && outcome) done.set(msg.orderId, outcome);
    if (done.size === 0) return;
    const trx = uow.trx;
    const ids = [...done.keys()];
    const declinedIds = ids.filter((id) => done.get(id)!.outcome === 'declined');
    // Products before any order row, as every stock-changing transaction takes them.
    await lockStockOf(trx, declinedIds);
    const v = rowSet(trx, 'v', [
      { name: 'order_id', type: 'text', values: ids },
      { name: 'outcome', type: 'text', values: ids.map((id) => done.get(id)!.outcome) },
      { name: 'provider_ref', type: 'text', values: ids.map((id) => done.get(id)!.providerRef) },
    ]);
    await sql`update payments set status = v.outcome, provider_ref = v.provider_ref, updated_at = ${uow.now} from ${v} where payments.order_id = v.order_id and payments.status = 'pending'`.execute(trx);

    const captured = ids.filter((id) => done.get(id)!.outcome === 'captured');
    const paid = await transitionMany(uow, captured, 'reserved', 'paid');
    const paidSet = new Set(paid);
    const notMoved = captured.filter((id) => !paidSet.has(id));
    // Cancelled (dead-lettered) while the charge was in flight: the money goes back.
    const statuses = await currentStatuses(trx, notMoved);
    const refunds = notMoved.filter((id) => statuses.get(id) === 'cancelled');

    const declined = await transitionMany(uow, declinedIds, 'reserved', 'cancelled', {
      reason: 'payment_declined',
      patch: { cancel_reason: 'payment_declined', reservation_expires_at: null },
    });
    await releaseStock(uow, declined, 'payment_declined');
    enqueue(uow, refunds.map((orderId) => ({ topic: 'refund' as const, orderId })));
    await notifyOrders(uow, declined, 'order_cancelled');
    return moved([paid, 'paid'], [declined, 'cancelled']);
  },
};

/** confirm: the reservation becomes a sale, a shipment with a unique tracking code is created and the customer told. */
export const confirmStep: Step = {
  async apply(uow, items) {
    const ids = orderIdsOf(items);
    await lockStockOf(uow.trx, ids);
    const confirmed = await transitionMany(uow, ids, 'paid', 'confirmed', { patch: { reservation_expires_at: null } });
    await sellStock(uow, confirmed);
    await recordStockAfterSales(uow.trx, confirmed, uow.now);
    uow.add(
      'shipments',
      confirmed.map((orderId) => ({ order_id: orderId, tracking_code: newTrackingCode(), status: 'pending' as const, created_at: uow.now, updated_at: uow.now })),
    );
    await notifyOrders(uow, confirmed, 'order_confirmed');
    return moved([confirmed, 'confirmed']);
  },
};

/**
 * notify: drains messages written before notifications moved into the transitions that cause them.
 * One notification per order and kind (a unique key), so a message whose transition has since
 * written it sends nothing twice.
 */
export const notifyStep: Step = {
  async apply(uow, items) {
    const byKind = new Map<NotificationKind, OutboxMessage[]>();
    for (const { msg } of items) {
      const kind = msg.payload.kind as NotificationKind;
      byKind.set(kind, [...(byKind.get(kind) ?? []), msg]);
    }
    for (const [kind, msgs] of byKind) {
      for (const m of msgs) await notifyOrders(uow, [m.orderId], kind, { messageId: m.id });
    }
  },
};

/** refund: gives back a charge of a cancelled order; the provider refunds a key at most once. */
export const refundStep: Step<string, void> = {
  async prepare(uow, msgs) {
    const trx = uow.trx;
    const payments = await trx.selectFrom('payments').select(['order_id', 'status', 'idempotency_key']).where(inSet(trx, 'order_id', orderIdsOf(msgs))).execute();
    const keys = new Map(payments.filter((p) => p.status !== 'declined').map((p) => [p.order_id, p.idempotency_key]));
    return new Map(msgs.map((m) => [m.id, keys.get(m.orderId) ?? null]));
  },
  perform(key, ctx) {
    return ctx.gateway.refund(key);
  },
  async apply(uow, items) {
    const ids = [...new Set(items.filter((i) => i.plan).map((i) => i.msg.orderId))];
    if (ids.length === 0) return;
    await uow.trx
      .updateTable('payments')
      .set({ status: 'refunded', updated_at: uow.now })
      .where(inSet(uow.trx, 'order_id', ids))
      .where('status', 'in', ['pending', 'captured'])
      .execute();
  },
};

/**
 * ship / deliver: applies a carrier update accepted by the API. The shipment moves only from the
 * status before it and only if this update was the one requested, so a redelivered message changes
 * nothing; the order follows (confirmed → shipped → delivered) and the customer is notified in the
 * same unit. Carrier updates are rare, so these go one message at a time within the batch.
 */
function shipmentStep(to: ShipmentUpdateStatus): Step {
  const orderFrom = to === 'shipped' ? 'confirmed' : 'shipped';
  return {
    async apply(uow, items) {
      for (const { msg } of items) {
        if (!(await applyShipmentUpdate(uow, msg.orderId, to))) continue;
        if (await transition(uow, msg.orderId, orderFrom, to)) await notifyOrders(uow, [msg.orderId], `order_${to}`);
      }
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
