import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OrderStatus } from '../domain/order-status.js';
import { enqueue, type Topic } from '../outbox/outbox.js';
import { cancelWithCompensation } from './compensate.js';
import { takeStockChanges } from '../catalog/stock-changes.js';
import { lockStockOf } from '../catalog/stock.js';
import type { OrderFinalNote } from '../observe/events.js';
import { takeOrderFinals } from '../observe/order-finals.js';

// The step that moves an order on from each in-progress status.
const NEXT_STEP: Partial<Record<OrderStatus, Topic>> = { pending: 'reserve', reserved: 'pay', paid: 'confirm' };
// Orders handled per sweep: bounds one sweep's transaction; the next sweep takes the rest.
const SWEEP_BATCH = 500;

export interface SweepResult {
  expired: number;
  redriven: number;
  /** Products whose reservations the sweep released (for cache invalidation). */
  stockChanged: string[];
}

/**
 * Repairs what transport can lose. Expires reservations whose payment never started (stock back
 * on the shelf, order cancelled `reservation_expired`), and re-queues the next step of orders that
 * sat in a non-final state longer than `stuckAfterMs` with no queued work (lost queue data).
 */
export async function sweep(
  db: Kysely<Database>,
  o: { now: number; stuckAfterMs: number; /** Called once the expiries committed, with the orders they cancelled. */ onOrdersFinal?: (notes: OrderFinalNote[]) => void },
): Promise<SweepResult> {
  const expiredIds = await db
    .selectFrom('orders')
    .select('id')
    .where('status', '=', 'reserved')
    .where('reservation_expires_at', '<', o.now)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('payments').select('order_id').whereRef('payments.order_id', '=', 'orders.id'))))
    .limit(SWEEP_BATCH)
    .execute();
  let expired = 0;
  let stockChanged: string[] = [];
  let finals: OrderFinalNote[] = [];
  if (expiredIds.length > 0) {
    await db.transaction().execute(async (trx) => {
      await lockStockOf(trx, expiredIds.map((e) => e.id));
      for (const { id } of expiredIds) {
        const r = await cancelWithCompensation(
          trx,
          id,
          { reason: 'reservation_expired', allowedFrom: ['reserved'], refuseIfPaymentStarted: true },
          o.now,
        );
        if (r.cancelled) expired++;
      }
      stockChanged = takeStockChanges(trx);
      finals = takeOrderFinals(trx);
    });
    if (finals.length > 0) o.onOrdersFinal?.(finals);
  }

  let redriven = 0;
  await db.transaction().execute(async (trx) => {
    const stuck = await trx
      .selectFrom('orders')
      .select(['id', 'status'])
      .where('status', 'in', ['pending', 'reserved', 'paid'])
      .where('updated_at', '<', o.now - o.stuckAfterMs)
      .where((eb) =>
        eb.not(
          eb.exists(eb.selectFrom('outbox').select('outbox.id').whereRef('outbox.order_id', '=', 'orders.id').where('outbox.status', '=', 'pending')),
        ),
      )
      .limit(SWEEP_BATCH)
      .execute();
    const messages = stuck.flatMap((s) => {
      const topic = NEXT_STEP[s.status];
      return topic ? [{ topic, orderId: s.id, payload: { redriven: true } }] : [];
    });
    await enqueue(trx, messages, o.now);
    redriven = messages.length;
  });
  return { expired, redriven, stockChanged };
}
