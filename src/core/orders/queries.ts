import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OrderStatus } from '../domain/order-status.js';
import { BuildflowError } from '../errors.js';
import { pageByKey } from '../keyset-page.js';
import type { Page } from '../pagination.js';
import type { Db } from '../outbox/outbox.js';
import { loadOrderViews, type OrderView } from './order-view.js';

const REFERENCE = /^BF-[0-9A-Z]{8}$/i;

/**
 * Whose orders a caller may see: a customer only their own; `undefined` (the admin) every order.
 * Another customer's order is reported exactly like a missing one.
 */
export type OrderScope = { customerId: string } | undefined;

/** Finds an order by id or by reference (`BF-…`), within `scope`. */
export async function getOrder(db: Db, idOrReference: string, scope?: OrderScope): Promise<OrderView> {
  const column = REFERENCE.test(idOrReference) ? 'reference' : 'id';
  const value = column === 'reference' ? idOrReference.toUpperCase() : idOrReference;
  let query = db.selectFrom('orders').selectAll().where(column, '=', value);
  if (scope) query = query.where('customer_id', '=', scope.customerId);
  const row = await query.executeTakeFirst();
  if (!row) throw new BuildflowError('ORDER_NOT_FOUND', `order ${idOrReference} not found`);
  const [view] = await loadOrderViews(db, [row]);
  return view!;
}

export interface ListOrdersQuery {
  status?: OrderStatus;
  limit?: number;
  cursor?: string;
}

/** Orders within `scope`, newest first (by id: UUID v7 ids sort by creation time), optionally of one status. */
export async function listOrders(db: Kysely<Database>, q: ListOrdersQuery, scope?: OrderScope): Promise<Page<OrderView>> {
  let query = db.selectFrom('orders').selectAll();
  // The owner filter is applied first and unconditionally: no other filter can widen it.
  if (scope) query = query.where('customer_id', '=', scope.customerId);
  if (q.status) query = query.where('status', '=', q.status);
  return pageByKey(query, q, { column: 'id', type: 'string', order: 'desc', of: (r) => r.id }, (rows) => loadOrderViews(db, rows));
}

export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  reason?: string;
  at: string;
}

/** Every transition of an order, oldest first. */
export async function orderHistory(db: Kysely<Database>, idOrReference: string, scope?: OrderScope): Promise<HistoryEntry[]> {
  const order = await getOrder(db, idOrReference, scope);
  const rows = await db.selectFrom('order_history').selectAll().where('order_id', '=', order.id).orderBy('id').execute();
  return rows.map((r) => ({
    from: r.from_status,
    to: r.to_status,
    ...(r.reason ? { reason: r.reason } : {}),
    at: new Date(r.at).toISOString(),
  }));
}
