import type { Kysely } from 'kysely';
import type { Database, ShipmentStatus } from '../db/schema.js';
import { BuildflowError } from '../errors.js';
import { enqueue, type Topic } from '../outbox/outbox.js';
import type { UnitOfWork, UnitRunner } from '../db/unit-of-work.js';

export { SHIPMENT_STATUSES, SHIPMENT_UPDATE_STATUSES } from '../domain/shipment-status.js';
export type ShipmentUpdateStatus = Exclude<ShipmentStatus, 'pending'>;

/** The status a shipment must be in to move to `to`, and the outbox topic that applies the move. */
export const SHIPMENT_STEP: Record<ShipmentUpdateStatus, { from: ShipmentStatus; topic: Topic }> = {
  shipped: { from: 'pending', topic: 'ship' },
  delivered: { from: 'shipped', topic: 'deliver' },
};

/** What anyone holding a tracking code may see: the shipment, nothing of the order or customer. */
export interface TrackingView {
  trackingCode: string;
  status: ShipmentStatus;
  history: { status: ShipmentStatus; at: string }[];
}

export interface ShipmentUpdateAccepted {
  trackingCode: string;
  status: ShipmentStatus;
  requestedStatus: ShipmentUpdateStatus;
}

/**
 * Accepts a carrier's status update. In one transaction the shipment is claimed with a guarded
 * update (`requested_status` set only where the status is the one before `to` and no other update
 * is waiting) and an outbox message is written; a worker applies it. So a repeated, backwards or
 * skipping update, or a second copy of one already accepted, is refused here and changes nothing.
 * @throws BuildflowError SHIPMENT_NOT_FOUND, SHIPMENT_TRANSITION_INVALID
 */
export async function requestShipmentUpdate(units: UnitRunner, trackingCode: string, to: ShipmentUpdateStatus, now = Date.now()): Promise<ShipmentUpdateAccepted> {
  const step = SHIPMENT_STEP[to];
  return units.run(async (uow) => {
    const trx = uow.trx;
    const claimed = await trx
      .updateTable('shipments')
      .set({ requested_status: to, updated_at: now })
      .where('tracking_code', '=', trackingCode)
      .where('status', '=', step.from)
      .where('requested_status', 'is', null)
      .returning(['order_id', 'status'])
      .executeTakeFirst();
    if (!claimed) {
      const current = await trx.selectFrom('shipments').select(['status', 'requested_status']).where('tracking_code', '=', trackingCode).executeTakeFirst();
      if (!current) throw new BuildflowError('SHIPMENT_NOT_FOUND', `no shipment with tracking code ${trackingCode}`);
      const state = current.requested_status ? `${current.status}, update to ${current.requested_status} in progress` : current.status;
      throw new BuildflowError(
        'SHIPMENT_TRANSITION_INVALID',
        `shipment ${trackingCode} cannot move to ${to} (it is ${state}; it must be ${step.from})`,
      );
    }
    enqueue(uow, [{ topic: step.topic, orderId: claimed.order_id, payload: { to } }]);
    return { trackingCode, status: claimed.status, requestedStatus: to };
  }, { durable: true, now });
}

/**
 * Applies an accepted update, guarded by the shipment's current and requested status, so a
 * redelivered message changes nothing. Records the shipment history, moves the order along
 * (confirmed → shipped → delivered) and queues the customer's notification. Returns false when
 * there was nothing to apply.
 */
export async function applyShipmentUpdate(uow: UnitOfWork, orderId: string, to: ShipmentUpdateStatus): Promise<boolean> {
  const { trx, now } = uow;
  const from = SHIPMENT_STEP[to].from;
  const res = await trx
    .updateTable('shipments')
    .set({ status: to, requested_status: null, updated_at: now })
    .where('order_id', '=', orderId)
    .where('status', '=', from)
    .where('requested_status', '=', to)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return false;
  await trx.insertInto('shipment_history').values({ order_id: orderId, from_status: from, to_status: to, at: now }).execute();
  return true;
}

/** The public view of a shipment by its tracking code. @throws BuildflowError SHIPMENT_NOT_FOUND */
export async function getTracking(db: Kysely<Database>, trackingCode: string): Promise<TrackingView> {
  const shipment = await db
    .selectFrom('shipments')
    .select(['order_id', 'tracking_code', 'status', 'created_at'])
    .where('tracking_code', '=', trackingCode)
    .executeTakeFirst();
  if (!shipment) throw new BuildflowError('SHIPMENT_NOT_FOUND', `no shipment with tracking code ${trackingCode}`);
  const rows = await db.selectFrom('shipment_history').select(['to_status', 'at']).where('order_id', '=', shipment.order_id).orderBy('id').execute();
  return {
    trackingCode: shipment.tracking_code,
    status: shipment.status,
    history: [
      { status: 'pending' as const, at: new Date(shipment.created_at).toISOString() },
      ...rows.map((r) => ({ status: r.to_status, at: new Date(r.at).toISOString() })),
    ],
  };
}
