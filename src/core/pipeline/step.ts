import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OutboxMessage } from '../outbox/outbox.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { DeliveryChannels } from '../notifications/fan-out.js';

/** What every step may use besides its transaction. */
export interface StepContext {
  now: number;
  gateway: PaymentGateway;
  reservationTtlMs: number;
  /** Channels a notification is also delivered on (webhooks always; email with SMTP). */
  channels?: DeliveryChannels;
}

/**
 * One pipeline step. A runner calls, for a message:
 * 1. `prepare` in a transaction (optional): decides whether an external call is needed and with what;
 * 2. `perform` outside any transaction, only when `prepare` returned a plan: the external effect,
 *    which must be idempotent by key because it can be repeated after a crash;
 * 3. `apply` in a transaction that also marks the message done: the state change, guarded by the
 *    order's current status, so a redelivered message changes nothing.
 */
export interface Step<Plan = unknown, Outcome = unknown> {
  /** `apply` may change stock: the runner locks the batch's products first (see lockStockOf). */
  changesStock?: boolean;
  prepare?(trx: Transaction<Database>, msg: OutboxMessage, ctx: StepContext): Promise<Plan | null>;
  perform?(plan: Plan, ctx: StepContext): Promise<Outcome>;
  apply(trx: Transaction<Database>, msg: OutboxMessage, ctx: StepContext, plan: Plan | null, outcome: Outcome | undefined): Promise<void>;
}
