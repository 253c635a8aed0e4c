import type { OrderStatus } from '../domain/order-status.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { cancelWithCompensation } from './compensate.js';
import { getOrder, type OrderScope } from '../orders/queries.js';
import type { OrderView } from '../orders/order-view.js';

/**
 * Cancels an order on request (the customer's own, or any by the admin) while its status is one of
 * `allowedFrom`. In one short transaction, guarded by the order's status so that it and the
 * pipeline's confirm cannot both win: held stock is released (a confirmed order's sold stock put
 * back), a message is queued that voids the authorization or refunds the capture, and the customer
 * is notified. Durable before it returns; the unit's hooks drop cached stock and wake the workers.
 * @throws BuildflowError ORDER_NOT_CANCELLABLE
 */
export async function cancelOrder(units: UnitRunner, idOrReference: string, allowedFrom: readonly OrderStatus[], scope?: OrderScope): Promise<OrderView> {
  const { id } = await getOrder(units.db, idOrReference, scope);
  const outcome = await units.run((uow) => cancelWithCompensation(uow, id, { reason: 'customer_cancelled', allowedFrom }), { durable: true });
  if (!outcome.cancelled) {
    const shipping = outcome.status === 'confirmed' && allowedFrom.includes('confirmed') ? ', its shipment is on its way' : '';
    throw new BuildflowError('ORDER_NOT_CANCELLABLE', `order ${idOrReference} can no longer be cancelled (status ${outcome.status}${shipping})`);
  }
  return getOrder(units.db, id);
}
