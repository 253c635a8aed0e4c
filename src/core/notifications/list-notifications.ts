import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { pageByKey } from '../keyset-page.js';
import type { Page } from '../pagination.js';
import { getOrder, type OrderScope } from '../orders/queries.js';

export interface NotificationView {
  id: number;
  orderId: string;
  /** The order's reference (`BF-…`), the name people use. */
  orderReference: string;
  kind: string;
  message: string;
  createdAt: string;
}

/** Notifications of orders within `scope`, newest first, optionally for one order (by id or reference). */
export async function listNotifications(
  db: Kysely<Database>,
  q: { order?: string; limit?: number; cursor?: string },
  scope?: OrderScope,
): Promise<Page<NotificationView>> {
  let query = db
    .selectFrom('notifications')
    .innerJoin('orders', 'orders.id', 'notifications.order_id')
    .selectAll('notifications')
    .select('orders.reference as order_reference');
  if (scope) query = query.where('orders.customer_id', '=', scope.customerId);
  if (q.order) query = query.where('notifications.order_id', '=', (await getOrder(db, q.order, scope)).id);
  return pageByKey(query, q, { column: 'notifications.id', type: 'number', order: 'desc', of: (n) => n.id }, (rows) =>
    rows.map((n) => ({ id: n.id, orderId: n.order_id, orderReference: n.order_reference, kind: n.kind, message: n.message, createdAt: new Date(n.created_at).toISOString() })),
  );
}
