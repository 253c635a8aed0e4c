import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { CUSTOMER_CANCELLABLE } from '../domain/order-status.js';
import { BuildflowError } from '../errors.js';
import { cancelWithCompensation } from '../pipeline/compensate.js';
import type { OrderFinalNote } from '../observe/events.js';
import { takeOrderFinals } from '../observe/order-finals.js';
import { getOrder, type OrderScope } from './queries.js';
import type { OrderView } from './order-view.js';

/**
 * Cancels an order on the customer's request. Allowed only before payment has started; held stock
 * is released in the same transaction and the customer is notified through the outbox.
 * `onOrdersFinal` hears of the cancellation once it has committed.
 */
export async function cancelOrder(
  db: Kysely<Database>,
  idOrReference: string,
  now = Date.now(),
  scope?: OrderScope,
  onOrdersFinal?: (notes: OrderFinalNote[]) => void,
): Promise<OrderView> {
  const { id } = await getOrder(db, idOrReference, scope);
  let finals: OrderFinalNote[] = [];
  const outcome = await db.transaction().execute(async (trx) => {
    const r = await cancelWithCompensation(trx, id, { reason: 'customer_cancelled', allowedFrom: CUSTOMER_CANCELLABLE, refuseIfPaymentStarted: true }, now);
    finals = takeOrderFinals(trx);
    return r;
  });
  if (finals.length > 0) onOrdersFinal?.(finals);
  if (!outcome.cancelled) {
    throw new BuildflowError('ORDER_NOT_CANCELLABLE', `order ${idOrReference} can no longer be cancelled (status ${outcome.status}, or payment has started)`);
  }
  return getOrder(db, id);
}
