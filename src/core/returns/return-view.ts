import type { Db, ReturnStatus } from '../db/schema.js';
import { inSet } from '../db/sets.js';
import { getOrder, type OrderScope } from '../orders/queries.js';

/** One line of a return: what was asked back and, once received, what arrived. */
export interface ReturnLineView {
  sku: string;
  quantity: number;
  unitPriceCents: number;
  /** Once received: how many arrived (refunded at the price paid). */
  receivedQuantity?: number;
  /** Once received: whether they went back on hand. */
  restock?: boolean;
}

/** A return as the API shows it. */
export interface ReturnView {
  id: string;
  orderId: string;
  status: ReturnStatus;
  reason: string;
  requestedBy: 'customer' | 'admin';
  lines: ReturnLineView[];
  /** Once received: the received lines' price, refunded through the payment ledger. */
  refundCents?: number;
  createdAt: string;
  receivedAt?: string;
}

/** The returns of one order (oldest first), or those named by `ids`. */
export async function readReturns(db: Db, where: { orderId: string } | { ids: readonly string[] }): Promise<ReturnView[]> {
  let q = db.selectFrom('returns').selectAll().orderBy('created_at').orderBy('id');
  q = 'orderId' in where ? q.where('order_id', '=', where.orderId) : q.where(inSet(db, 'id', where.ids));
  const returns = await q.execute();
  if (returns.length === 0) return [];
  const lines = await db
    .selectFrom('return_lines')
    .selectAll()
    .where(inSet(db, 'return_id', returns.map((r) => r.id)))
    .orderBy('sku')
    .execute();
  return returns.map((r) => ({
    id: r.id,
    orderId: r.order_id,
    status: r.status,
    reason: r.reason,
    requestedBy: r.requested_by,
    lines: lines
      .filter((l) => l.return_id === r.id)
      .map((l) => ({
        sku: l.sku,
        quantity: Number(l.quantity),
        unitPriceCents: Number(l.unit_price_cents),
        ...(l.received_quantity !== null ? { receivedQuantity: Number(l.received_quantity) } : {}),
        ...(l.restock !== null ? { restock: Number(l.restock) === 1 } : {}),
      })),
    ...(r.refund_cents !== null ? { refundCents: Number(r.refund_cents) } : {}),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(r.received_at !== null ? { receivedAt: new Date(Number(r.received_at)).toISOString() } : {}),
  }));
}

/** An order's returns, oldest first; another customer's order is not found. */
export async function listReturns(db: Db, idOrReference: string, scope?: OrderScope): Promise<ReturnView[]> {
  const { id } = await getOrder(db, idOrReference, scope);
  return readReturns(db, { orderId: id });
}
