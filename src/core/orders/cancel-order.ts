import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { CUSTOMER_CANCELLABLE } from '../domain/order-status.js';
import { BuildflowError } from '../errors.js';
import { cancelWithCompensation } from '../pipeline/compensate.js';
import { getOrder, type OrderScope } from './queries.js';
import type { OrderView } from './order-view.js';

/**
 * Cancels an order on the customer's request. Allowed only before payment has started; held stock
 * is released in the same transaction and the customer is notified through the outbox.
 */
export async function cancelOrder(db: Kysely<Database>, idOrReference: string, now = Date.now(), scope?: OrderScope): Promise<OrderView> {
  const { id } = await getOrder(db, idOrReference, scope);
  const outcome = await db
    .transaction()
    .execute((trx) =>
      cancelWithCompensation(trx, id, { reason: 'customer_cancelled', allowedFrom: CUSTOMER_CANCELLABLE, refuseIfPaymentStarted: true }, now),
    );
  if (!outcome.cancelled) {
    throw new BuildflowError('ORDER_NOT_CANCELLABLE', `order ${idOrReference} can no longer be cancelled (status ${outcome.status}, or payment has started)`);
  }
  return getOrder(db, id);
}
