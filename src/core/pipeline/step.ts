import type { UnitOfWork } from '../db/unit-of-work.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OutboxMessage } from '../outbox/outbox.js';
import type { PaymentGateway } from './payment-gateway.js';

/** What every step may use besides its unit of work. */
export interface StepContext {
  now: number;
  gateway: PaymentGateway;
  reservationTtlMs: number;
  /** When an authorization is captured: at confirm (the default) or at shipment. */
  captureAt: 'confirm' | 'shipped';
}

/** One message of a batch on its way to `apply`, with what `prepare` and `perform` made of it. */
export interface StepItem<Plan = unknown, Outcome = unknown> {
  msg: OutboxMessage;
  /** `prepare`'s plan; null when there is nothing to do (or the step has no `prepare`). */
  plan: Plan | null;
  /** `perform`'s outcome; undefined when it did not run. */
  outcome: Outcome | undefined;
}

/** The orders a step's `apply` moved, with the status each moved to. */
export type Moved = Map<string, OrderStatus>;

/**
 * One pipeline step, run for a batch of its messages at once so that a batch costs a fixed number
 * of statements, not a few per message. The runner calls:
 * 1. `prepare` in a unit of work (optional): decides, per message, whether an external call is
 *    needed and with what (null: nothing to do);
 * 2. `perform` outside any transaction, for each message with a plan: the external effect, which
 *    must be idempotent by key because it can be repeated after a crash (`performAll`, when given,
 *    makes the calls of a batch at once);
 * 3. `apply` in a unit of work: the state change, guarded by the orders' current status, so a
 *    redelivered message changes nothing. It returns the orders it moved; the runner ends the run
 *    of an order that reached a final status (its message is deleted in the same unit) and takes
 *    the others on to their next step.
 * A batch that fails is retried one message at a time, so every method must also work for one.
 * A step takes the row locks of the products it changes itself, in sku order, before it touches
 * any order row (see lockStockOf).
 */
export interface Step<Plan = unknown, Outcome = unknown> {
  prepare?(uow: UnitOfWork, msgs: readonly OutboxMessage[], ctx: StepContext): Promise<Map<number, Plan | null>>;
  perform?(plan: Plan, ctx: StepContext): Promise<Outcome>;
  /** The calls of many plans at once; a failure falls back to `perform` one by one. */
  performAll?(plans: readonly Plan[], ctx: StepContext): Promise<Outcome[]>;
  apply(uow: UnitOfWork, items: readonly StepItem<Plan, Outcome>[], ctx: StepContext): Promise<Moved | void>;
}
