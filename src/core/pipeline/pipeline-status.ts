import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { HOLDS_RESERVATION } from '../domain/order-status.js';
import { ORDER_STEPS, STEP_OF_STATUS, type OrderStep } from '../outbox/outbox.js';
import { listPauses } from './pauses.js';

/** One step of the order pipeline as `pipeline status` shows it. */
export interface StepStatus {
  step: OrderStep;
  paused: boolean;
  reason: string | null;
  /** When the step was paused (ISO 8601), null when it runs. */
  pausedAt: string | null;
  /** Orders in the status this step moves on (pending → reserve, reserved → pay, paid → confirm). */
  waitingOrders: number;
  /** Units of stock those orders hold reserved (0 at reserve: nothing is reserved yet). */
  stockHeld: number;
  /** When the longest-waiting of them reached that status (ISO 8601), null when none waits. */
  oldestWaitingSince: string | null;
}

export interface PipelineStatus {
  steps: StepStatus[];
}

const STATUS_OF_STEP = Object.fromEntries(Object.entries(STEP_OF_STATUS).map(([status, step]) => [step, status])) as Record<OrderStep, 'pending' | 'reserved' | 'paid'>;

/** Each order step: paused or not, and the orders (and stock) waiting at it. From the database, so any process sees the same. */
export async function pipelineStatus(db: Kysely<Database>): Promise<PipelineStatus> {
  const statuses = ORDER_STEPS.map((s) => STATUS_OF_STEP[s]);
  const [pauses, waiting, held] = await Promise.all([
    listPauses(db),
    db
      .selectFrom('orders')
      .select((eb) => ['status', eb.fn.countAll<number | string>().as('n'), eb.fn.min('updated_at').as('oldest')])
      .where('status', 'in', statuses)
      .groupBy('status')
      .execute(),
    db
      .selectFrom('order_items as i')
      .innerJoin('orders as o', 'o.id', 'i.order_id')
      .select((eb) => ['o.status', eb.fn.sum<number | string>('i.quantity').as('units')])
      .where('o.status', 'in', statuses.filter((s) => HOLDS_RESERVATION.includes(s)))
      .groupBy('o.status')
      .execute(),
  ]);
  return {
    steps: ORDER_STEPS.map((step) => {
      const status = STATUS_OF_STEP[step];
      const pause = pauses.find((p) => p.step === step);
      const w = waiting.find((r) => r.status === status);
      const h = held.find((r) => r.status === status);
      return {
        step,
        paused: pause !== undefined,
        reason: pause?.reason ?? null,
        pausedAt: pause?.pausedAt ?? null,
        waitingOrders: Number(w?.n ?? 0),
        stockHeld: Number(h?.units ?? 0),
        oldestWaitingSince: w?.oldest == null ? null : new Date(Number(w.oldest)).toISOString(),
      };
    }),
  };
}
