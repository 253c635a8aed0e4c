import type { UnitOfWork } from '../db/unit-of-work.js';
import type { OutboxMessage } from '../outbox/outbox.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { DeliveryChannels } from '../notifications/fan-out.js';

/** What every step may use besides its unit of work. */
export interface StepContext {
  now: number;
  gateway: PaymentGateway;
  reservationTtlMs: number;
  /** Channels a notification is also delivered on (webhooks always; email with SMTP). */
  channels?: DeliveryChannels;
}

/** One message of a batch on its way to `apply`, with what `prepare` and `perform` made of it. */
export interface StepItem<Plan = unknown, Outcome = unknown> {
  msg: OutboxMessage;
  /** `prepare`'s plan; null when there is nothing to do (or the step has no `prepare`). */
  plan: Plan | null;
  /** `perform`'s outcome; undefined when it did not run. */
  outcome: Outcome | undefined;
}

/**
 * One pipeline step, run for a batch of its messages at once so that a batch costs a fixed number
 * of statements, not a few per message. The runner calls:
 * 1. `prepare` in a unit of work (optional): decides, per message, whether an external call is
 *    needed and with what (null: nothing to do);
 * 2. `perform` outside any transaction, for each message with a plan: the external effect, which
 *    must be idempotent by key because it can be repeated after a crash (`performAll`, when given,
 *    makes the calls of a batch at once);
 * 3. `apply` in a unit of work that also marks the messages done: the state change, guarded by the
 *    orders' current status, so a redelivered message changes nothing.
 * A batch that fails is retried one message at a time, so every method must also work for one.
 */
export interface Step<Plan = unknown, Outcome = unknown> {
  /** `apply` may change stock: the runner locks the batch's products first (see lockStockOf). */
  changesStock?: boolean;
  prepare?(uow: UnitOfWork, msgs: readonly OutboxMessage[], ctx: StepContext): Promise<Map<number, Plan | null>>;
  perform?(plan: Plan, ctx: StepContext): Promise<Outcome>;
  /** The calls of many plans at once; a failure falls back to `perform` one by one. */
  performAll?(plans: readonly Plan[], ctx: StepContext): Promise<Outcome[]>;
  apply(uow: UnitOfWork, items: readonly StepItem<Plan, Outcome>[], ctx: StepContext): Promise<void>;
}
