import { sql } from 'kysely';
import type { Db } from '../outbox/outbox.js';
import type { OrderItemRow, OrderRow } from '../db/schema.js';
import type { CancelReason, OrderStatus } from '../domain/order-status.js';
import type { PricedItem } from '../domain/pricing.js';

/** An order as every caller sees it (camelCase, ISO times). */
export interface OrderView {
  id: string;
  reference: string;
  status: OrderStatus;
  cancelReason?: CancelReason;
  items: PricedItem[];
  totalCents: number;
  trackingCode?: string;
  /** Money the payment ledger holds for the order: authorized (less voided), captured, refunded. */
  authorizedCents: number;
  capturedCents: number;
  refundedCents: number;
  createdAt: string;
  updatedAt: string;
}

export interface OrderMoneySums {
  authorizedCents: number;
  capturedCents: number;
  refundedCents: number;
}

const NO_MONEY: OrderMoneySums = { authorizedCents: 0, capturedCents: 0, refundedCents: 0 };

export function toOrderView(order: OrderRow, items: readonly OrderItemRow[], trackingCode?: string, money: OrderMoneySums = NO_MONEY): OrderView {
  const view: OrderView = {
    id: order.id,
    reference: order.reference,
    status: order.status,
    items: items.map((i) => ({
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPriceCents: i.unit_price_cents,
      lineTotalCents: i.line_total_cents,
    })),
    totalCents: order.total_cents,
    ...money,
    createdAt: new Date(order.created_at).toISOString(),
    updatedAt: new Date(order.updated_at).toISOString(),
  };
  if (order.cancel_reason) view.cancelReason = order.cancel_reason;
  if (trackingCode) view.trackingCode = trackingCode;
  return view;
}

/** Loads full views for the given order rows with two queries, whatever their number. */
export async function loadOrderViews(db: Db, orders: readonly OrderRow[]): Promise<OrderView[]> {
  if (orders.length === 0) return [];
  const ids = orders.map((o) => o.id);
  const sum = (kind: string) => sql<number>`coalesce(sum(case when kind = ${kind} and status = 'succeeded' then amount_cents else 0 end), 0)`;
  const [items, shipments, ledger] = await Promise.all([
    db.selectFrom('order_items').selectAll().where('order_id', 'in', ids).orderBy('order_id').orderBy('line_no').execute(),
    db.selectFrom('shipments').select(['order_id', 'tracking_code']).where('order_id', 'in', ids).execute(),
    db
      .selectFrom('payment_ledger')
      .select(['order_id', sum('authorization').as('authorized'), sum('void').as('voided'), sum('capture').as('captured'), sum('refund').as('refunded')])
      .where('order_id', 'in', ids)
      .groupBy('order_id')
      .execute(),
  ]);
  const money = new Map(
    ledger.map((l) => [
      l.order_id,
      { authorizedCents: Number(l.authorized) - Number(l.voided), capturedCents: Number(l.captured), refundedCents: Number(l.refunded) },
    ]),
  );
  const itemsByOrder = new Map<string, OrderItemRow[]>();
  for (const item of items) {
    const list = itemsByOrder.get(item.order_id) ?? [];
    list.push(item);
    itemsByOrder.set(item.order_id, list);
  }
  const tracking = new Map(shipments.map((s) => [s.order_id, s.tracking_code]));
  return orders.map((o) => toOrderView(o, itemsByOrder.get(o.id) ?? [], tracking.get(o.id), money.get(o.id)));
}
