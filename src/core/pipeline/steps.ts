import { newTrackingCode } from '../ids.js';
import { lockStockOf, orderLines, planReservations, releaseStock, reserveStock, sellStock, type Line } from '../catalog/stock.js';
import { inSet, insertRows, rowSet } from '../db/sets.js';
import { sql } from 'kysely';
import type { OrderStatus } from '../domain/order-status.js';
import { currentStatuses, transition, transitionMany } from '../orders/transition.js';
import { enqueue, type OutboxMessage, type Topic } from '../outbox/outbox.js';
import type { NotificationKind } from '../domain/notification-kinds.js';
import type { AuthorizeRequest, AuthorizeResult } from './payment-gateway.js';
import { authorizationKey, moneyOf, movementKey, refreshSummaries, settle, writePending, type LedgerAnswer, type LedgerCall } from '../payments/ledger.js';
import { callAll, callEach, callProvider } from './call-provider.js';
import { cancelWithCompensation } from '../cancellation/compensate.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import type { Moved, Step, StepContext } from './step.js';
import { notifyOrderEvents, notifyOrders } from '../notifications/notify-orders.js';
import { recordStockAfterSales } from '../webhooks/record-events.js';
import { webhookEndpoints } from '../notifications/notify-orders.js';
import { applyShipmentUpdate, type ShipmentUpdateStatus } from '../shipments/shipments.js';

const orderIdsOf = (msgs: readonly { msg: OutboxMessage }[] | readonly OutboxMessage[]): string[] => [
  ...new Set(msgs.map((m) => ('msg' in m ? m.msg.orderId : m.orderId))),
];

/**
 * Each message's plan from its order's, given to the first message of an order only: a copy of the
 * message in the same batch gets none (nothing to do) and so never makes the same call twice.
 */
function firstPlanPerOrder<P>(msgs: readonly OutboxMessage[], plans: ReadonlyMap<string, P>): Map<number, P | null> {
  const planned = new Set<string>();
  return new Map(
    msgs.map((m) => {
      const plan = plans.get(m.orderId);
      if (plan === undefined || planned.has(m.orderId)) return [m.id, null];
      planned.add(m.orderId);
      return [m.id, plan];
    }),
  );
}

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
 * pay: authorizes the order's total. A pending payment row and a pending authorization in the
 * payment ledger are written before the provider is called, so a customer cancel or a reservation
 * expiry can see that money may be held and leave the order alone. No product is locked unless an
 * authorization was declined (then its reservation goes back).
 */
export const payStep: Step<AuthorizeRequest, AuthorizeResult> = {
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
        idempotency_key: authorizationKey(orderId),
        amount_cents: amount,
        status: 'pending' as const,
        provider_ref: null,
        created_at: uow.now,
        updated_at: uow.now,
      })),
      { ignoreConflicts: true },
    );
    await writePending(
      uow,
      [...reserved].map(([orderId, amount]) => ({ kind: 'authorization' as const, orderId, idempotencyKey: authorizationKey(orderId), amountCents: amount, authorizationRef: null })),
    );
    return new Map(
      msgs.map((m) => {
        const amount = reserved.get(m.orderId);
        return [m.id, amount === undefined ? null : { idempotencyKey: authorizationKey(m.orderId), amountCents: amount }];
      }),
    );
  },
  perform(plan, ctx) {
    return ctx.gateway.authorize(plan);
  },
  performAll(plans, ctx) {
    return ctx.gateway.authorizeAll ? ctx.gateway.authorizeAll(plans) : Promise.all(plans.map((p) => ctx.gateway.authorize(p)));
  },
  async apply(uow, items) {
    const done = new Map<string, AuthorizeResult>();
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
    await settle(
      uow,
      ids.map((id) => ({ idempotencyKey: authorizationKey(id), status: done.get(id)!.outcome === 'authorized' ? 'succeeded' : 'failed', providerRef: done.get(id)!.providerRef })),
    );

    const authorized = ids.filter((id) => done.get(id)!.outcome === 'authorized');
    const paid = await transitionMany(uow, authorized, 'reserved', 'paid');
    const paidSet = new Set(paid);
    const notMoved = authorized.filter((id) => !paidSet.has(id));
    // Cancelled (dead-lettered) while the authorization was in flight: it is voided.
    const statuses = await currentStatuses(trx, notMoved);
    const settleMoney = notMoved.filter((id) => statuses.get(id) === 'cancelled');

    const declined = await transitionMany(uow, declinedIds, 'reserved', 'cancelled', {
      reason: 'payment_declined',
      patch: { cancel_reason: 'payment_declined', reservation_expires_at: null },
    });
    await releaseStock(uow, declined, 'payment_declined');
    enqueue(uow, settleMoney.map((orderId) => ({ topic: 'refund' as const, orderId })));
    await notifyOrders(uow, declined, 'order_cancelled');
    return moved([paid, 'paid'], [declined, 'cancelled']);
  },
};

/**
 * The capture of an order's total still uncaptured, as a pending ledger row (a row left pending by
 * an earlier attempt is asked again under its key); null when there is nothing to capture.
 */
async function planCaptures(uow: UnitOfWork, orders: readonly { id: string; total_cents: number }[]): Promise<Map<string, LedgerCall>> {
  const money = await moneyOf(uow.trx, orders.map((o) => o.id));
  const calls = new Map<string, LedgerCall>();
  for (const o of orders) {
    const m = money.get(o.id)!;
    const pending = m.pending.find((p) => p.kind === 'capture');
    const amount = Math.min(Number(o.total_cents), m.authorizedCents - m.voidedCents) - m.capturedCents;
    if (pending) calls.set(o.id, pending);
    else if (amount > 0 && m.authorizationRef)
      calls.set(o.id, { kind: 'capture', orderId: o.id, idempotencyKey: movementKey(o.id, 'capture', m.counts.capture + 1), amountCents: amount, authorizationRef: m.authorizationRef });
  }
  await writePending(uow, [...calls.values()].filter((c) => !money.get(c.orderId)!.pending.includes(c)));
  return calls;
}

/**
 * The capture half of a step that captures (confirm, or shipment when the shop captures then): the
 * orders of the batch still in `status` when `captures` holds get a capture planned, and the
 * captures go to the provider together.
 */
function capturing(status: 'paid' | 'confirmed', captures: (ctx: StepContext) => boolean): Pick<Step<LedgerCall, LedgerAnswer>, 'prepare' | 'perform' | 'performAll'> {
  return {
    async prepare(uow, msgs, ctx) {
      const trx = uow.trx;
      const orders = captures(ctx) ? await trx.selectFrom('orders').select(['id', 'total_cents']).where(inSet(trx, 'id', orderIdsOf(msgs))).where('status', '=', status).execute() : [];
      return firstPlanPerOrder(msgs, await planCaptures(uow, orders));
    },
    perform: (call, ctx) => callProvider(ctx.gateway, call),
    performAll: (calls, ctx) => callEach(ctx.gateway, calls),
  };
}

/**
 * confirm: the authorization is captured (unless the shop captures at shipment), the reservation
 * becomes a sale, a shipment with a unique tracking code is created and the customer told. A
 * capture the provider refuses cancels the order with its compensation (the authorization is voided).
 */
export const confirmStep: Step<LedgerCall, LedgerAnswer> = {
  ...capturing('paid', (ctx) => ctx.captureAt === 'confirm'),
  async apply(uow, items) {
    const ids = orderIdsOf(items);
    const lines = await lockStockOf(uow.trx, ids);
    const answers = items.flatMap((i) => (i.plan && i.outcome ? [i.outcome] : []));
    await settle(uow, answers);
    const refused = new Set(items.filter((i) => i.outcome?.status === 'failed').map((i) => i.msg.orderId));
    const confirmed = await transitionMany(uow, ids.filter((id) => !refused.has(id)), 'paid', 'confirmed', { patch: { reservation_expires_at: null } });
    await refreshSummaries(uow, items.filter((i) => i.outcome?.status === 'succeeded').map((i) => i.msg.orderId));
    await sellStock(uow, confirmed, lines);
    uow.noteDeliveries(await recordStockAfterSales(uow.trx, confirmed, uow.now, await webhookEndpoints(uow)));
    uow.add(
      'shipments',
      confirmed.map((orderId) => ({ order_id: orderId, tracking_code: newTrackingCode(), status: 'pending' as const, created_at: uow.now, updated_at: uow.now })),
    );
    await notifyOrders(uow, confirmed, 'order_confirmed');
    const cancelled: string[] = [];
    for (const id of refused) if ((await cancelWithCompensation(uow, id, { reason: 'payment_declined', allowedFrom: ['paid'] })).cancelled) cancelled.push(id);
    return moved([confirmed, 'confirmed'], [cancelled, 'cancelled']);
  },
};

/**
 * notify: drains messages written before notifications moved into the transitions that cause them.
 * One notification per order and kind (a unique key), so a message whose transition has since
 * written it sends nothing twice.
 */
export const notifyStep: Step = {
  async apply(uow, items) {
    for (const { msg } of items) await notifyOrders(uow, [msg.orderId], msg.payload.kind as NotificationKind, { messageId: msg.id });
  },
};

/**
 * refund: asks the provider for the refunds the admin requested (rows written pending with the
 * request), and settles the money of a cancelled order: refunds all it captured and voids the rest
 * of its authorization. Each call is a ledger row written pending before it. A row an earlier run left
 * pending (its worker died between call and commit) is first asked again under its key, which
 * tells its answer without moving money twice; the order's sums are then settled by a message of
 * their own, queued with those answers.
 */
interface SettlePlan {
  calls: LedgerCall[];
  /** The calls are rows an earlier run left pending. */
  resumed: boolean;
}

export const refundStep: Step<SettlePlan, LedgerAnswer[]> = {
  async prepare(uow, msgs) {
    const trx = uow.trx;
    const ids = orderIdsOf(msgs);
    const statuses = await currentStatuses(trx, ids);
    const money = await moneyOf(trx, ids);
    const plans = new Map<string, SettlePlan>();
    const fresh: LedgerCall[] = [];
    for (const [orderId, m] of money) {
      const cancelled = statuses.get(orderId) === 'cancelled';
      // An order that goes on has only its requested refunds asked here (its captures are its steps').
      const pending = cancelled ? m.pending : m.pending.filter((p) => p.kind === 'refund');
      if (pending.length > 0) {
        plans.set(orderId, { calls: pending, resumed: cancelled });
        continue;
      }
      if (!cancelled) continue;
      const calls: LedgerCall[] = [];
      const toRefund = m.capturedCents - m.refundedCents;
      const toVoid = m.authorizedCents - m.capturedCents - m.voidedCents;
      if (toRefund > 0) calls.push({ kind: 'refund', orderId, idempotencyKey: movementKey(orderId, 'refund', m.counts.refund + 1), amountCents: toRefund, authorizationRef: m.authorizationRef });
      if (toVoid > 0) calls.push({ kind: 'void', orderId, idempotencyKey: movementKey(orderId, 'void', m.counts.void + 1), amountCents: toVoid, authorizationRef: m.authorizationRef });
      if (calls.length > 0) plans.set(orderId, { calls, resumed: false });
      fresh.push(...calls);
    }
    await writePending(uow, fresh, { reason: 'order cancelled' });
    return firstPlanPerOrder(msgs, plans);
  },
  perform(plan, ctx) {
    return callAll(ctx.gateway, plan.calls);
  },
  async apply(uow, items) {
    const answered = items.filter((i) => i.plan && i.outcome);
    if (answered.length === 0) return;
    const answers = answered.flatMap((i) => i.outcome!);
    await settle(uow, answers);
    const ids = [...new Set(answered.map((i) => i.msg.orderId))];
    await refreshSummaries(uow, ids);
    await notifyRefunds(uow, answers);
    // Rows that were pending from an earlier run: the sums they leave are settled next.
    const resolved = answered.filter((i) => i.plan!.resumed).map((i) => i.msg.orderId);
    enqueue(uow, [...new Set(resolved)].map((orderId) => ({ topic: 'refund' as const, orderId })));
  },
};

/**
 * Tells the customer of each refund that went through (`order.refunded`, its own event per ledger
 * row), in the unit that settles it. A cancelled order's refund is not told apart: its
 * cancellation notice says the money is refunded.
 */
async function notifyRefunds(uow: UnitOfWork, answers: readonly LedgerAnswer[]): Promise<void> {
  const keys = answers.filter((a) => a.status === 'succeeded').map((a) => a.idempotencyKey);
  if (keys.length === 0) return;
  const trx = uow.trx;
  const rows = await trx
    .selectFrom('payment_ledger')
    .innerJoin('orders', 'orders.id', 'payment_ledger.order_id')
    .select(['payment_ledger.id', 'payment_ledger.order_id', 'payment_ledger.amount_cents', 'payment_ledger.return_id'])
    .where(inSet(trx, 'payment_ledger.idempotency_key', keys))
    .where('payment_ledger.kind', '=', 'refund')
    .where('orders.status', '<>', 'cancelled')
    .execute();
  await notifyOrderEvents(
    uow,
    rows.map((r) => ({
      orderId: r.order_id,
      kind: 'order_refunded' as const,
      eventKey: `refund:${r.id}`,
      detail: { amountCents: Number(r.amount_cents), ...(r.return_id ? { returnId: r.return_id } : {}) },
    })),
  );
}

/**
 * ship / deliver: applies a carrier update accepted by the API. The shipment moves only from the
 * status before it and only if this update was the one requested, so a redelivered message changes
 * nothing; the order follows (confirmed → shipped → delivered) and the customer is notified in the
 * same unit. Carrier updates are rare, so these go one message at a time within the batch.
 */
function shipmentStep(to: ShipmentUpdateStatus): Step<LedgerCall, LedgerAnswer> {
  const orderFrom = to === 'shipped' ? 'confirmed' : 'shipped';
  return {
    // A shop that captures at shipment captures here, before the order moves (a refused capture
    // is kept in the ledger as failed: the goods have left, so the order ships all the same).
    ...capturing('confirmed', (ctx) => to === 'shipped' && ctx.captureAt === 'shipped'),
    async apply(uow, items) {
      const answers = items.flatMap((i) => (i.plan && i.outcome ? [i.outcome] : []));
      await settle(uow, answers);
      await refreshSummaries(uow, items.filter((i) => i.plan && i.outcome).map((i) => i.msg.orderId));
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
