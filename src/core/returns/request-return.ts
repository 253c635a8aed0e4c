import type { Db } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { newOrderId } from '../ids.js';
import { notifyOrderEvents } from '../notifications/notify-orders.js';
import { getOrder, type OrderScope } from '../orders/queries.js';
import { lockOrderRow } from '../payments/refunds.js';
import { readReturns, type ReturnView } from './return-view.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ReturnRequest {
  items: readonly { sku: string; quantity: number }[];
  reason: string;
  /** The client's `Idempotency-Key`: the same key and body answer the return already asked. */
  idempotencyKey?: string;
}

export interface ReturnPolicy {
  /** Who asks: a customer only for their own order (`scope`) and within the window; the admin always. */
  by: 'customer' | 'admin';
  scope?: OrderScope;
  /** `BUILDFLOW_RETURN_WINDOW_DAYS`: days after shipment (or delivery) a customer may still ask. */
  windowDays: number;
}

/** Per sku of an order: bought, its price, and already asked back (requested returns count what they ask, received ones what arrived). */
export async function returnableLines(db: Db, orderId: string): Promise<Map<string, { bought: number; unitPriceCents: number; returned: number }>> {
  const [items, returned] = await Promise.all([
    db.selectFrom('order_items').select(['sku', 'quantity', 'unit_price_cents']).where('order_id', '=', orderId).execute(),
    db
      .selectFrom('return_lines')
      .innerJoin('returns', 'returns.id', 'return_lines.return_id')
      .select(['return_lines.sku', 'return_lines.quantity', 'return_lines.received_quantity'])
      .where('returns.order_id', '=', orderId)
      .execute(),
  ]);
  const out = new Map<string, { bought: number; unitPriceCents: number; returned: number }>();
  for (const i of items) {
    const line = out.get(i.sku) ?? { bought: 0, unitPriceCents: Number(i.unit_price_cents), returned: 0 };
    line.bought += Number(i.quantity);
    out.set(i.sku, line);
  }
  for (const r of returned) {
    const line = out.get(r.sku);
    if (line) line.returned += Number(r.received_quantity ?? r.quantity);
  }
  return out;
}

/** The asked quantities summed per sku (a sku named twice counts once, with both quantities). */
export function sumPerSku(items: readonly { sku: string; quantity: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) out.set(i.sku, (out.get(i.sku) ?? 0) + i.quantity);
  return out;
}

/**
 * Asks to return lines of a shipped or delivered order: by its customer within the return window,
 * or by the admin. In one short transaction under the order's row lock (Postgres; SQLite writes one
 * at a time), so two returns racing for the last units cannot both pass: never more of a sku than
 * bought less what earlier returns asked back. Writes the return (`requested`) and tells the
 * customer (`order.return_requested`, its own event per return). The same client key and body
 * answer the return already asked; another body under it is refused.
 * @throws BuildflowError ORDER_NOT_FOUND (also another customer's order), RETURN_NOT_ALLOWED,
 * RETURN_WINDOW_CLOSED, RETURN_EXCEEDS_PURCHASED, IDEMPOTENCY_KEY_REUSED
 */
export async function requestReturn(units: UnitRunner, idOrReference: string, r: ReturnRequest, policy: ReturnPolicy): Promise<{ created: ReturnView; replayed: boolean }> {
  // Ownership first: another customer's order is not found, and nothing is written.
  const { id: orderId, reference } = await getOrder(units.db, idOrReference, policy.scope);
  const asked = sumPerSku(r.items);
  const { returnId, replayed } = await units.run(
    async (uow) => {
      const trx = uow.trx;
      const order = (await lockOrderRow(trx, orderId))!;
      if (r.idempotencyKey !== undefined) {
        const earlier = await trx.selectFrom('returns').select(['id', 'reason']).where('order_id', '=', orderId).where('request_key', '=', r.idempotencyKey).executeTakeFirst();
        if (earlier) {
          const lines = await trx.selectFrom('return_lines').select(['sku', 'quantity']).where('return_id', '=', earlier.id).execute();
          const same = earlier.reason === r.reason && lines.length === asked.size && lines.every((l) => asked.get(l.sku) === Number(l.quantity));
          if (!same) throw new BuildflowError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different return');
          return { returnId: earlier.id, replayed: true };
        }
      }
      if (order.status !== 'shipped' && order.status !== 'delivered') {
        throw new BuildflowError('RETURN_NOT_ALLOWED', `order ${reference} is ${order.status}: only a shipped or delivered order can be returned`, { status: order.status });
      }
      if (policy.by === 'customer') await checkWindow(trx, orderId, reference, policy.windowDays, uow.now);
      const lines = await returnableLines(trx, orderId);
      for (const [sku, quantity] of asked) {
        const line = lines.get(sku) ?? { bought: 0, unitPriceCents: 0, returned: 0 };
        if (quantity > line.bought - line.returned) {
          throw new BuildflowError(
            'RETURN_EXCEEDS_PURCHASED',
            `return of ${quantity} × ${sku} exceeds what can be returned of order ${reference}: bought ${line.bought}, already returned ${line.returned}`,
            { sku, asked: quantity, bought: line.bought, returned: line.returned },
          );
        }
      }
      const id = newOrderId(uow.now);
      await trx.insertInto('returns').values({ id, order_id: orderId, status: 'requested', reason: r.reason, requested_by: policy.by, request_key: r.idempotencyKey ?? null, refund_cents: null, created_at: uow.now, received_at: null }).execute();
      await trx
        .insertInto('return_lines')
        .values([...asked].map(([sku, quantity]) => ({ return_id: id, sku, quantity, unit_price_cents: lines.get(sku)!.unitPriceCents, received_quantity: null, restock: null })))
        .execute();
      const amountCents = [...asked].reduce((s, [sku, q]) => s + q * lines.get(sku)!.unitPriceCents, 0);
      await notifyOrderEvents(uow, [{ orderId, kind: 'order_return_requested', eventKey: `return:${id}`, detail: { returnId: id, amountCents } }]);
      return { returnId: id, replayed: false };
    },
    { durable: true },
  );
  return { created: (await readReturns(units.db, { ids: [returnId] }))[0]!, replayed };
}

/** A customer's return must come within the window, counted from the order's delivery (or its shipment, while undelivered). */
async function checkWindow(trx: Db, orderId: string, reference: string, windowDays: number, now: number): Promise<void> {
  const since = await trx
    .selectFrom('order_history')
    .select((eb) => eb.fn.max('at').as('at'))
    .where('order_id', '=', orderId)
    .where('to_status', 'in', ['shipped', 'delivered'])
    .executeTakeFirst();
  const from = Number(since?.at ?? now);
  if (now - from > windowDays * DAY_MS) {
    throw new BuildflowError('RETURN_WINDOW_CLOSED', `order ${reference} can no longer be returned: the ${windowDays}-day return window closed on ${new Date(from + windowDays * DAY_MS).toISOString()}`);
  }
}
