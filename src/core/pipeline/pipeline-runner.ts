import type { UnitOfWork, UnitRunner } from '../db/unit-of-work.js';
import { lockStockOf } from '../catalog/stock.js';
import { markDead, markDone, retryDelayMs, scheduleRetry, TOPICS, type OutboxMessage } from '../outbox/outbox.js';
import { cancelWithCompensation } from './compensate.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { StepContext, StepItem } from './step.js';
import { STEPS } from './steps.js';

/** Where the runner reports retries and dead letters (pino's shape; core itself never prints). */
export interface PipelineLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunnerDeps {
  /** The deployment's units of work: their after-commit hooks drop cached stock and wake workers. */
  units: UnitRunner;
  gateway: PaymentGateway;
  reservationTtlMs: number;
  /** Deliveries of a message before it is dead-lettered. */
  maxAttempts: number;
  logger: PipelineLogger;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Pipeline policy: runs a batch of claimed messages through their steps. The batch shares one
 * `prepare` unit of work and one `apply` unit of work (with the outbox rows marked done in it), so
 * a batch costs two commits and a fixed number of statements however large it is. If a shared
 * unit fails, its messages are retried one by one so that only the failing one is charged an
 * attempt; a message out of attempts is dead-lettered and its order compensated and cancelled.
 * Transports (the outbox loop, the Redis consumer) only claim messages and call {@link run}.
 */
export class PipelineRunner {
  constructor(private readonly deps: RunnerDeps) {}

  private ctx(): StepContext {
    return { now: Date.now(), gateway: this.deps.gateway, reservationTtlMs: this.deps.reservationTtlMs };
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
    const prepared = await this.inUnits(
      live.filter((m) => STEPS[m.topic].prepare),
      async (uow, group) => {
        const ctx = this.ctx();
        for (const [topic, msgs] of byTopic(group)) {
          for (const [id, plan] of await STEPS[topic].prepare!(uow, msgs, ctx)) plans.set(id, plan);
        }
      },
    );

    const outcomes = new Map<number, unknown>();
    const performed = new Set<number>();
    const toPerform: OutboxMessage[] = [];
    for (const m of live) {
      if (STEPS[m.topic].prepare && !prepared.has(m.id)) continue;
      const plan = plans.get(m.id);
      if (plan === null || plan === undefined || !STEPS[m.topic].perform) performed.add(m.id);
      else toPerform.push(m);
    }
    await Promise.all([...byTopic(toPerform)].map(([topic, msgs]) => this.perform(topic, msgs, plans, outcomes, performed)));

    await this.inUnits(
      live.filter((m) => performed.has(m.id)),
      async (uow, group) => {
        // Products first, in sku order, as every stock-changing transaction takes them (see lockStockOf).
        await lockStockOf(uow.trx, group.filter((m) => STEPS[m.topic].changesStock).map((m) => m.orderId));
        const ctx = this.ctx();
        for (const [topic, msgs] of byTopic(group)) {
          const items: StepItem[] = msgs.map((msg) => ({ msg, plan: plans.get(msg.id) ?? null, outcome: outcomes.get(msg.id) }));
          await STEPS[topic].apply(uow, items, ctx);
        }
        await markDone(uow.trx, group.map((m) => m.id), uow.now);
      },
    );
  }

  /** The external calls of one topic's messages: all at once where the step can, else one by one; a failed call fails only its message. */
  private async perform(topic: OutboxMessage['topic'], msgs: readonly OutboxMessage[], plans: Map<number, unknown>, outcomes: Map<number, unknown>, performed: Set<number>): Promise<void> {
    const step = STEPS[topic];
    const ctx = this.ctx();
    if (step.performAll && msgs.length > 1) {
      try {
        const results = await step.performAll(msgs.map((m) => plans.get(m.id)), ctx);
        msgs.forEach((m, i) => {
          outcomes.set(m.id, results[i]);
          performed.add(m.id);
        });
        return;
      } catch {
        // One call at a time below, so only the failing calls fail their messages.
      }
    }
    await Promise.all(
      msgs.map(async (m) => {
        try {
          outcomes.set(m.id, await step.perform!(plans.get(m.id), ctx));
          performed.add(m.id);
        } catch (err) {
          await this.fail(m, err);
        }
      }),
    );
  }

  /**
   * Runs `work` for all `messages` in one unit of work; if that fails, once per message. Returns
   * the ids that succeeded; failures are charged an attempt.
   */
  private async inUnits(messages: readonly OutboxMessage[], work: (uow: UnitOfWork, group: readonly OutboxMessage[]) => Promise<void>): Promise<Set<number>> {
    const ok = new Set<number>();
    if (messages.length === 0) return ok;
    try {
      await this.deps.units.run((uow) => work(uow, messages));
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
        await this.deps.units.run((uow) => work(uow, [m]));
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
    await scheduleRetry(this.deps.units.db, m.id, text, retryDelayMs(m.attempts), Date.now());
  }

  /** Dead-letters a message and, in the same unit of work, compensates and cancels its order. */
  private async deadLetter(m: OutboxMessage, reason: string): Promise<void> {
    this.deps.logger.error({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempts: m.attempts, err: reason }, 'message dead-lettered');
    await this.deps.units.run(async (uow) => {
      if (await markDead(uow.trx, m.id, reason, uow.now)) await compensateDeadLetter(uow, m.orderId);
    });
  }
}

/**
 * What a message that can no longer be delivered does to its order: if the pipeline still owes the
 * order work, the order is compensated and cancelled with reason `failed`.
 */
export async function compensateDeadLetter(uow: UnitOfWork, orderId: string): Promise<void> {
  await cancelWithCompensation(uow, orderId, { reason: 'failed', allowedFrom: ['pending', 'reserved', 'paid'] });
}

/** Messages grouped by topic, in the pipeline's order of topics. */
function byTopic(msgs: readonly OutboxMessage[]): Map<OutboxMessage['topic'], OutboxMessage[]> {
  const out = new Map<OutboxMessage['topic'], OutboxMessage[]>();
  for (const topic of TOPICS) {
    const group = msgs.filter((m) => m.topic === topic);
    if (group.length > 0) out.set(topic, group);
  }
  return out;
}
