import type { UnitOfWork, UnitRunner } from '../db/unit-of-work.js';
import { lockStockOf } from '../catalog/stock.js';
import { markDead, markDone, retryDelayMs, scheduleRetry, TOPICS, type OutboxMessage } from '../outbox/outbox.js';
import { cancelWithCompensation } from './compensate.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { StepContext, StepItem } from './step.js';
import { STEPS } from './steps.js';
import type { DeliveryChannels } from '../notifications/fan-out.js';
import type { StepOutcome, StepOutcomeKind } from '../observe/events.js';

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
  /** Channels a notification is also delivered on (webhooks always; email with SMTP). */
  channels?: DeliveryChannels;
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

/** The messages a unit runs, as the unit notes them (which message settled which order). */
const unitMessages = (msgs: readonly OutboxMessage[]) => msgs.map((m) => ({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempt: m.attempts }));

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
    const prepared = await this.inUnits(
      collected,
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
    await Promise.all([...byTopic(toPerform)].map(([topic, msgs]) => this.perform(topic, msgs, plans, outcomes, performed, collected)));

    const applied = await this.inUnits(
      collected,
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
    for (const m of live) if (applied.has(m.id)) collected.add(m, 'done');
  }

  /** The external calls of one topic's messages: all at once where the step can, else one by one; a failed call fails only its message. */
  private async perform(topic: OutboxMessage['topic'], msgs: readonly OutboxMessage[], plans: Map<number, unknown>, outcomes: Map<number, unknown>, performed: Set<number>, collected: Outcomes): Promise<void> {
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
          await this.fail(m, err, collected);
        }
      }),
    );
  }

  /**
   * Runs `work` for all `messages` in one unit of work; if that fails, once per message. Returns
   * the ids that succeeded; failures are charged an attempt.
   */
  private async inUnits(collected: Outcomes, messages: readonly OutboxMessage[], work: (uow: UnitOfWork, group: readonly OutboxMessage[]) => Promise<void>): Promise<Set<number>> {
    const ok = new Set<number>();
    if (messages.length === 0) return ok;
    try {
      await this.deps.units.run((uow) => {
        uow.runs(unitMessages(messages));
        return work(uow, messages);
      });
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
        await this.deps.units.run((uow) => {
          uow.runs(unitMessages([m]));
          return work(uow, [m]);
        });
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
    await scheduleRetry(this.deps.units.db, m.id, text, delayMs, Date.now());
    collected.add(m, 'retry', text);
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, retryInMs: delayMs, err: text }, 'step failed; will retry');
  }

  /** Dead-letters a message and, in the same unit of work, compensates and cancels its order. */
  private async deadLetter(m: OutboxMessage, reason: string, collected: Outcomes): Promise<void> {
    let dead = false;
    await this.deps.units.run(async (uow) => {
      uow.runs(unitMessages([m]));
      dead = await markDead(uow.trx, m.id, reason, uow.now);
      if (dead) await compensateDeadLetter(uow, m.orderId);
    });
    if (!dead) return; // another worker got there first
    collected.add(m, 'dead', reason);
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, reason }, 'message dead-lettered; its order is compensated if the pipeline still owed it work');
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
