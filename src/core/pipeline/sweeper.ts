import type { OrderStatus } from '../domain/order-status.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { enqueue, type Topic } from '../outbox/outbox.js';
import { cancelWithCompensation } from '../cancellation/compensate.js';
import { lockStockOf } from '../catalog/stock.js';
import { DEFAULTS } from '../defaults.js';
import { listPauses } from './pauses.js';

// The step that moves an order on from each in-progress status.
const NEXT_STEP: Partial<Record<OrderStatus, Topic>> = { pending: 'reserve', reserved: 'pay', paid: 'confirm' };
const SWEEP_BATCH = DEFAULTS.sweeper.batch;

export interface SweepResult {
  expired: number;
  redriven: number;
  /** Products whose reservations the sweep released (for cache invalidation). */
  stockChanged: string[];
}

/**
 * Repairs what transport can lose. Expires reservations whose payment never started (stock back
 * on the shelf, order cancelled `reservation_expired`) unless pay is paused, and re-queues the next step of orders that
 * sat in a non-final state longer than `stuckAfterMs` with no queued work (lost queue data).
 */
export async function sweep(units: UnitRunner, o: { now: number; stuckAfterMs: number }): Promise<SweepResult> {
  const db = units.db;
  // While pay is paused the wait is the shop's doing: reservations held for it do not expire.
  const payPaused = (await listPauses(db)).some((p) => p.step === 'pay');
  const expiredIds = payPaused ? [] : await db
    .selectFrom('orders')
    .select('id')
    .where('status', '=', 'reserved')
    .where('reservation_expires_at', '<', o.now)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('payments').select('order_id').whereRef('payments.order_id', '=', 'orders.id'))))
    .limit(SWEEP_BATCH)
    .execute();
  let expired = 0;
  let stockChanged: string[] = [];
  if (expiredIds.length > 0) {
    // Counted by the unit and returned: a unit Postgres aborts for a deadlock runs again whole.
    expired = await units.run(
      async (uow) => {
        await lockStockOf(uow.trx, expiredIds.map((e) => e.id));
        let cancelled = 0;
        for (const { id } of expiredIds) {
          const r = await cancelWithCompensation(uow, id, { reason: 'reservation_expired', allowedFrom: ['reserved'], refuseIfPaymentStarted: true });
          if (r.cancelled) cancelled++;
        }
        uow.afterCommit(() => void (stockChanged = uow.committed().stockChanged.slice()));
        return cancelled;
      },
      { now: o.now },
    );
  }

  let redriven = 0;
  await units.run(async (uow) => {
    const stuck = await uow.trx
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
    enqueue(uow, messages);
    redriven = messages.length;
  }, { now: o.now });
  return { expired, redriven, stockChanged };
}
