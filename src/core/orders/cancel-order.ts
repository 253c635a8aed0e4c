import { CUSTOMER_CANCELLABLE } from '../domain/order-status.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { cancelWithCompensation } from '../pipeline/compensate.js';
import { getOrder, type OrderScope } from './queries.js';
import type { OrderView } from './order-view.js';

/**
 * Cancels an order on the customer's request. Allowed only before payment has started; held stock
 * is released in the same transaction and the customer is notified through the outbox. Durable
 * before it returns; the unit's hooks drop cached stock and wake the workers.
 */
export async function cancelOrder(units: UnitRunner, idOrReference: string, scope?: OrderScope): Promise<OrderView> {
  const { id } = await getOrder(units.db, idOrReference, scope);
  const outcome = await units.run(
    (uow) => cancelWithCompensation(uow, id, { reason: 'customer_cancelled', allowedFrom: CUSTOMER_CANCELLABLE, refuseIfPaymentStarted: true }),
    { durable: true },
  );
  if (!outcome.cancelled) {
    throw new BuildflowError('ORDER_NOT_CANCELLABLE', `order ${idOrReference} can no longer be cancelled (status ${outcome.status}, or payment has started)`);
  }
  return getOrder(units.db, id);
}
