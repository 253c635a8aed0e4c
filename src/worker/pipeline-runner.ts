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
import type { OrderFinalNote, StepOutcome, StepOutcomeKind } from '../core/observe/events.js';
import { takeOrderFinals } from '../core/observe/order-finals.js';
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
  /**
   * Seam: called after a commit that settled orders (confirmed or cancelled), with the messages
   * that transaction ran.
   */
  onOrdersFinal?: (notes: OrderFinalNote[], messages: readonly OutboxMessage[]) => void;
  /** Seam: called once per batch with each message's committed outcome (done, retry, dead). */
  onStepOutcomes?: (outcomes: StepOutcome[]) => void;
}

/** Collects the outcomes of one run() (runs may overlap on one runner, so this is per call). */
class Outcomes {
  readonly list: StepOutcome[] = [];
  private readonly started = performance.now();

  add(m: OutboxMessage, outcome: StepOutcomeKind, error?: string): void {
    const o: StepOutcome = { messageId: m.id, topic: m.topic, orderId: m.orderId, attempt: m.attempts, outcome, seconds: (performance.now() - this.started) / 1000 };
    if (error !== undefined) o.error = error;
    this.list.push(o);
  }
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
  /** Messages handed to {@link run} so far (the worker registry's "messages handled"). */
  handled = 0;

  constructor(private readonly deps: RunnerDeps) {}

  private ctx(): StepContext {
    return { now: Date.now(), gateway: this.deps.gateway, reservationTtlMs: this.deps.reservationTtlMs, channels: this.deps.channels };
  }

  async run(messages: readonly OutboxMessage[]): Promise<void> {
    this.handled += messages.length;
    const outcomes = new Outcomes();
    try {
      await this.runSteps(messages, outcomes);
    } finally {
      // Seam: the one place a batch's committed outcomes are known.
      if (outcomes.list.length > 0) this.deps.onStepOutcomes?.(outcomes.list);
    }
  }

  private async runSteps(messages: readonly OutboxMessage[], collected: Outcomes): Promise<void> {
    const live: OutboxMessage[] = [];
    for (const m of messages) {
      if (!STEPS[m.topic]) await this.deadLetter(m, `unknown topic ${m.topic}`, collected);
      // Attempts are counted at claim time, so a message whose handler keeps killing its worker ends here.
      else if (m.attempts > this.deps.maxAttempts) await this.deadLetter(m, `gave up after ${m.attempts - 1} attempts`, collected);
      else live.push(m);
    }

    const plans = new Map<number, unknown>();
    const prepared = await this.inTransactions(
      collected,
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
            await this.fail(m, err, collected);
          }
        }),
    );

    const applied = await this.inTransactions(
      collected,
      live.filter((m) => performed.has(m.id)),
      (trx, m) => STEPS[m.topic].apply(trx, m, this.ctx(), plans.get(m.id) ?? null, outcomes.get(m.id)),
      (trx, done) => markDone(trx, done.map((m) => m.id), Date.now()),
      (trx, group) => lockStockOf(trx, group.filter((m) => STEPS[m.topic].changesStock).map((m) => m.orderId)),
    );
    for (const m of live) if (applied.has(m.id)) collected.add(m, 'done');
  }

  /**
   * Runs `start` and `work` for every message, then `finish` for all of them, in one transaction; if that
   * fails, again one transaction per message. Returns the ids that succeeded; failures are charged
   * an attempt.
   */
  private async inTransactions(
    collected: Outcomes,
    messages: readonly OutboxMessage[],
    work: (trx: Transaction<Database>, m: OutboxMessage) => Promise<void>,
    finish?: (trx: Transaction<Database>, messages: readonly OutboxMessage[]) => Promise<void>,
    start?: (trx: Transaction<Database>, messages: readonly OutboxMessage[]) => Promise<void>,
  ): Promise<Set<number>> {
    const ok = new Set<number>();
    if (messages.length === 0) return ok;
    const attempt = (group: readonly OutboxMessage[]) =>
      this.transaction(group, async (trx) => {
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
        await this.fail(messages[0]!, batchErr, collected);
        return ok;
      }
    }
    for (const m of messages) {
      try {
        await attempt([m]);
        ok.add(m.id);
      } catch (err) {
        await this.fail(m, err, collected);
      }
    }
    return ok;
  }

  private async fail(m: OutboxMessage, err: unknown, collected: Outcomes): Promise<void> {
    const text = errorText(err);
    if (m.attempts >= this.deps.maxAttempts) {
      await this.deadLetter(m, text, collected);
      return;
    }
    const delayMs = retryDelayMs(m.attempts);
    await scheduleRetry(this.deps.db, m.id, text, delayMs, Date.now());
    collected.add(m, 'retry', text);
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, retryInMs: delayMs, err: text }, 'step failed; will retry');
  }

  /** Dead-letters a message and, in the same transaction, compensates and cancels its order. */
  private async deadLetter(m: OutboxMessage, reason: string, collected: Outcomes): Promise<void> {
    let dead = false;
    await this.transaction([m], async (trx) => {
      const now = Date.now();
      dead = await markDead(trx, m.id, reason, now);
      if (dead) await compensateDeadLetter(trx, m.orderId, now);
    });
    if (!dead) return; // another worker got there first
    collected.add(m, 'dead', reason);
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, reason }, 'message dead-lettered; its order is compensated if the pipeline still owed it work');
  }

  /**
   * One transaction over `messages`; once it has committed, reports the products whose stock it
   * changed and (seam) the orders it settled.
   */
  private async transaction(messages: readonly OutboxMessage[], work: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
    let committed: Transaction<Database> | undefined;
    await this.deps.db.transaction().execute(async (trx) => {
      await work(trx);
      committed = trx;
    });
    if (!committed) return;
    const skus = takeStockChanges(committed);
    if (skus.length > 0) this.deps.onStockChanged?.(skus);
    const finals = takeOrderFinals(committed);
    if (finals.length > 0) this.deps.onOrdersFinal?.(finals, messages);
  }
}
