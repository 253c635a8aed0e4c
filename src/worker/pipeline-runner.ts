import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../core/db/schema.js';
import { markDead, markDone, retryDelayMs, scheduleRetry, type OutboxMessage } from '../core/outbox/outbox.js';
import type { PaymentGateway } from '../core/pipeline/payment-gateway.js';
import type { StepContext } from '../core/pipeline/step.js';
import type { DeliveryChannels } from '../core/notifications/fan-out.js';
import { deferInserts, flushDeferred } from '../core/db/deferred-inserts.js';
import { takeStockChanges } from '../core/catalog/stock-changes.js';
import { lockStockOf } from '../core/catalog/stock.js';
import { STEPS, compensateDeadLetter } from '../core/pipeline/steps.js';
import type { Logger } from './logger.js';

export interface RunnerDeps {
  db: Kysely<Database>;
  gateway: PaymentGateway;
  reservationTtlMs: number;
  channels?: DeliveryChannels;
  maxAttempts: number;
  logger: Logger;
  /** Called after a commit that changed these products' stock (cache invalidation). */
  onStockChanged?: (skus: string[]) => void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs a batch of claimed messages through their steps. The batch shares one `prepare`
 * transaction and one `apply` transaction (with the outbox rows marked done in it), so a batch
 * costs two durable commits however large it is; if a shared transaction fails, its messages are
 * retried one by one so that only the failing one is charged an attempt.
 */
export class PipelineRunner {
  constructor(private readonly deps: RunnerDeps) {}

  private ctx(): StepContext {
    return { now: Date.now(), gateway: this.deps.gateway, reservationTtlMs: this.deps.reservationTtlMs, channels: this.deps.channels };
  }

  async run(messages: readonly OutboxMessage[]): Promise<void> {
    const live: OutboxMessage[] = [];
    for (const m of messages) {
      if (!STEPS[m.topic]) await this.deadLetter(m, `unknown topic ${m.topic}`);
      // Attempts are counted at claim time, so a message whose handler keeps killing its worker ends here.
      else if (m.attempts > this.deps.maxAttempts) await this.deadLetter(m, `gave up after ${m.attempts - 1} attempts`);
      else live.push(m);
    }

    const plans = new Map<number, unknown>();
    const prepared = await this.inTransactions(
      live.filter((m) => STEPS[m.topic].prepare),
      async (trx, m) => {
        plans.set(m.id, await STEPS[m.topic].prepare!(trx, m, this.ctx()));
      },
    );

    const outcomes = new Map<number, unknown>();
    const performed = new Set<number>();
    await Promise.all(
      live
        .filter((m) => !STEPS[m.topic].prepare || prepared.has(m.id))
        .map(async (m) => {
          const plan = plans.get(m.id);
          const step = STEPS[m.topic];
          if (plan === null || plan === undefined || !step.perform) {
            performed.add(m.id);
            return;
          }
          try {
            outcomes.set(m.id, await step.perform(plan, this.ctx()));
            performed.add(m.id);
          } catch (err) {
            await this.fail(m, err);
          }
        }),
    );

    await this.inTransactions(
      live.filter((m) => performed.has(m.id)),
      (trx, m) => STEPS[m.topic].apply(trx, m, this.ctx(), plans.get(m.id) ?? null, outcomes.get(m.id)),
      (trx, done) => markDone(trx, done.map((m) => m.id), Date.now()),
      (trx, group) => lockStockOf(trx, group.filter((m) => STEPS[m.topic].changesStock).map((m) => m.orderId)),
    );
  }

  /**
   * Runs `start` and `work` for every message, then `finish` for all of them, in one transaction; if that
   * fails, again one transaction per message. Returns the ids that succeeded; failures are charged
   * an attempt.
   */
  private async inTransactions(
    messages: readonly OutboxMessage[],
    work: (trx: Transaction<Database>, m: OutboxMessage) => Promise<void>,
    finish?: (trx: Transaction<Database>, messages: readonly OutboxMessage[]) => Promise<void>,
    start?: (trx: Transaction<Database>, messages: readonly OutboxMessage[]) => Promise<void>,
  ): Promise<Set<number>> {
    const ok = new Set<number>();
    if (messages.length === 0) return ok;
    const attempt = (group: readonly OutboxMessage[]) =>
      this.transaction(async (trx) => {
        deferInserts(trx);
        await start?.(trx, group);
        for (const m of group) await work(trx, m);
        await finish?.(trx, group);
        await flushDeferred(trx);
      });
    try {
      await attempt(messages);
      for (const m of messages) ok.add(m.id);
      return ok;
    } catch (batchErr) {
      if (messages.length === 1) {
        await this.fail(messages[0]!, batchErr);
        return ok;
      }
    }
    for (const m of messages) {
      try {
        await attempt([m]);
        ok.add(m.id);
      } catch (err) {
        await this.fail(m, err);
      }
    }
    return ok;
  }

  private async fail(m: OutboxMessage, err: unknown): Promise<void> {
    const text = errorText(err);
    if (m.attempts >= this.deps.maxAttempts) {
      await this.deadLetter(m, text);
      return;
    }
    this.deps.logger.warn({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempts: m.attempts, err: text }, 'step failed; will retry');
    await scheduleRetry(this.deps.db, m.id, text, retryDelayMs(m.attempts), Date.now());
  }

  /** Dead-letters a message and, in the same transaction, compensates and cancels its order. */
  private async deadLetter(m: OutboxMessage, reason: string): Promise<void> {
    this.deps.logger.error({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempts: m.attempts, err: reason }, 'message dead-lettered');
    await this.transaction(async (trx) => {
      const now = Date.now();
      if (await markDead(trx, m.id, reason, now)) await compensateDeadLetter(trx, m.orderId, now);
    });
  }

  /** One transaction; once it has committed, reports the products whose stock it changed. */
  private async transaction(work: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
    let committed: Transaction<Database> | undefined;
    await this.deps.db.transaction().execute(async (trx) => {
      await work(trx);
      committed = trx;
    });
    const skus = committed ? takeStockChanges(committed) : [];
    if (skus.length > 0) this.deps.onStockChanged?.(skus);
  }
}
