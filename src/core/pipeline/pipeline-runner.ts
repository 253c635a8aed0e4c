import type { StepOutcomeKind, UnitOfWork, UnitRunner } from '../db/unit-of-work.js';
import { isSettled, type OrderStatus } from '../domain/order-status.js';
import { currentStatuses } from '../orders/transition.js';
import { deleteDone, isOrderStep, markDead, ORDER_STEPS, retryDelayMs, scheduleRetry, STEP_OF_STATUS, TOPICS, type OutboxMessage, type Topic } from '../outbox/outbox.js';
import { cancelWithCompensation } from '../cancellation/compensate.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { Moved, StepContext, StepItem } from './step.js';
import { STEPS } from './steps.js';
import { holdAtPause, type PauseReader } from './pauses.js';
import type { RateLimit } from './rate-limit.js';
import { DEFAULTS } from '../defaults.js';

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
  /** When an authorization is captured (default: at confirm). */
  captureAt?: 'confirm' | 'shipped';
  /** Deliveries of a message at one step before it is dead-lettered there. */
  maxAttempts: number;
  logger: PipelineLogger;
  /** The steps an operator paused; absent: none ever is. */
  pauses?: PauseReader;
  /** How long a message that reached a paused step waits before it looks again (resume makes it due at once). */
  pauseHoldMs?: number;
  /** Payments started per second across the deployment (BUILDFLOW_PAY_RATE_PER_S); absent: no limit. */
  payRate?: RateLimit;
}

/**
 * Notes step outcomes in the units that commit them, so they reach the units' after-commit hooks
 * (metrics) only once committed; one per run() (runs may overlap on one runner).
 */
class Outcomes {
  private readonly started = performance.now();

  note(uow: UnitOfWork, m: OutboxMessage, outcome: StepOutcomeKind, error?: string): void {
    uow.noteOutcome({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempt: m.attempts, outcome, startedAt: this.started, ...(error !== undefined ? { error } : {}) });
  }
}

/** The messages a unit runs, as the unit notes them (which message settled which order). */
const unitMessages = (msgs: readonly OutboxMessage[]) => msgs.map((m) => ({ messageId: m.id, topic: m.topic, orderId: m.orderId, attempt: m.attempts }));

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Passes over an order batch: one per step, and one more for orders whose status moved under them. */
const MAX_PASSES = ORDER_STEPS.length + 1;

/**
 * Pipeline policy: runs a batch of claimed messages. One message carries an order through
 * reserve → pay → confirm: the batch's orders go through the steps together, each step its own
 * unit of work guarded by the orders' status (the status is the checkpoint), and an order's
 * message is deleted in the unit that ends its run (confirmed, or cancelled with its compensation).
 * A step's units cost a fixed number of statements however large the batch. If a shared unit fails,
 * its messages are retried one by one so that only the failing one is charged; a message that fails
 * a step is released for a retry at that step, and one out of attempts there is dead-lettered with
 * the step named and its order compensated and cancelled. Later work (refunds, carrier updates) is
 * a message of its own, run by its step and deleted in the same unit.
 * Transports (the outbox loop, the Redis consumer) only claim messages and call {@link run}.
 */
export class PipelineRunner {
  /** Messages handed to {@link run} so far (the worker registry's "messages handled"). */
  handled = 0;

  constructor(private readonly deps: RunnerDeps) {}

  private ctx(): StepContext {
    return { now: Date.now(), gateway: this.deps.gateway, reservationTtlMs: this.deps.reservationTtlMs, captureAt: this.deps.captureAt ?? 'confirm' };
  }

  async run(messages: readonly OutboxMessage[]): Promise<void> {
    this.handled += messages.length;
    const outcomes = new Outcomes();
    const live: OutboxMessage[] = [];
    for (const m of messages) {
      if (!STEPS[m.topic]) await this.deadLetter(m, `unknown topic ${m.topic}`, outcomes);
      // Attempts are counted at claim time, so a message whose step keeps killing its worker ends here.
      else if (m.attempts > this.deps.maxAttempts) await this.deadLetter(m, `gave up after ${m.attempts - 1} attempts at ${m.topic}`, outcomes);
      else live.push({ ...m });
    }
    await this.runOrders(live.filter((m) => isOrderStep(m.topic)), outcomes);
    for (const [topic, group] of byTopic(live.filter((m) => !isOrderStep(m.topic)))) {
      // The message is done with its step: deleted in the unit that applied it.
      await this.runStep(topic, group, outcomes, (_moved, g) => g);
    }
  }

  /**
   * Takes order messages through their steps, in the pipeline's order: those a step moved on join
   * the next step's group; those it ended are deleted with the step's unit. An order the step did
   * not move (its status changed under the message: a customer cancel, another worker after a
   * lease ran out) is looked up again and resumes where its status says, or its message is
   * deleted if its run is over.
   */
  private async runOrders(messages: OutboxMessage[], collected: Outcomes): Promise<void> {
    let todo = messages;
    const paused = todo.length > 0 && this.deps.pauses ? await this.deps.pauses.paused() : new Set<string>();
    for (let pass = 0; pass < MAX_PASSES && todo.length > 0; pass++) {
      const unsure: OutboxMessage[] = [];
      // Grouped before any step runs: a message moved on below changes its topic.
      const atStep = new Map(ORDER_STEPS.map((step) => [step, todo.filter((m) => m.topic === step)]));
      let carried: OutboxMessage[] = [];
      for (const step of ORDER_STEPS) {
        let group = [...carried, ...atStep.get(step)!];
        carried = [];
        if (group.length === 0) continue;
        // Orders wait at a paused step with their status as it is: nothing is charged to them. A
        // pause lifted since it was read holds nothing, and the step runs.
        if (paused.has(step) && (await holdAtPause(this.deps.units.db, group, this.deps.pauseHoldMs ?? DEFAULTS.pause.holdMs, Date.now(), step))) continue;
        if (step === 'pay' && this.deps.payRate) group = await this.admitToPay(group, this.deps.payRate);
        if (group.length === 0) continue;
        const moved = await this.runStep(step, group, collected, (mv, g) => g.filter((m) => isFinal(mv.get(m.orderId))));
        for (const m of group) {
          if (!moved.has(m.id)) continue; // failed: retried or dead-lettered at this step
          const to = moved.get(m.id);
          if (to === undefined) unsure.push(m);
          else if (!isFinal(to)) {
            // On to the next step within this run: its attempts start there.
            m.topic = STEP_OF_STATUS[to]!;
            m.attempts = 1;
            carried.push(m);
          }
        }
      }
      todo = await this.resumeOrEnd(unsure, collected);
    }
    for (const m of todo) await this.fail(m, new Error(`order status kept changing under the ${m.topic} step`), collected);
  }

  /** The orders the pay rate limit lets through now; the rest wait at pay like at a pause, for about their turn. */
  private async admitToPay(group: OutboxMessage[], limit: RateLimit): Promise<OutboxMessage[]> {
    const granted = await limit.take(group.length);
    const held = group.slice(granted);
    if (held.length > 0) await holdAtPause(this.deps.units.db, held, limit.holdMs(held.length), Date.now());
    return group.slice(0, granted);
  }

  /** Orders a step left where they were: those whose run is over lose their message; the rest go round again at their status's step. */
  private async resumeOrEnd(messages: readonly OutboxMessage[], collected: Outcomes): Promise<OutboxMessage[]> {
    if (messages.length === 0) return [];
    const statuses = await currentStatuses(this.deps.units.db, messages.map((m) => m.orderId));
    const over = messages.filter((m) => !STEP_OF_STATUS[statuses.get(m.orderId) ?? 'cancelled']);
    if (over.length > 0) {
      try {
        await this.deps.units.run(async (uow) => {
          uow.runs(unitMessages(over));
          await deleteDone(uow.trx, over.map((m) => m.id));
          for (const m of over) collected.note(uow, m, 'done');
        });
      } catch (err) {
        for (const m of over) await this.fail(m, err, collected);
      }
    }
    const again: OutboxMessage[] = [];
    for (const m of messages) {
      const step = STEP_OF_STATUS[statuses.get(m.orderId) ?? 'cancelled'];
      if (!step) continue;
      if (step !== m.topic) m.attempts = 1;
      m.topic = step;
      again.push(m);
    }
    return again;
  }

  /**
   * Runs one step for `msgs` (all of that step): prepare, perform, apply. `ending` picks, inside
   * the apply unit, the messages whose run the step ended; they are deleted there. Returns, for
   * every message that got through the step, the status its order moved to (undefined: not moved);
   * a message that failed is absent (its retry or dead letter is already written).
   */
  private async runStep(
    topic: Topic,
    msgs: readonly OutboxMessage[],
    collected: Outcomes,
    ending: (moved: Moved, group: readonly OutboxMessage[]) => readonly OutboxMessage[],
  ): Promise<Map<number, OrderStatus | undefined>> {
    const step = STEPS[topic];
    const plans = new Map<number, unknown>();
    const prepared = step.prepare
      ? await this.inUnits(collected, msgs, async (uow, group) => {
          for (const [id, plan] of await step.prepare!(uow, group, this.ctx())) plans.set(id, plan);
          return new Map();
        })
      : new Map(msgs.map((m) => [m.id, undefined]));

    const outcomes = new Map<number, unknown>();
    const performed: OutboxMessage[] = [];
    const toPerform: OutboxMessage[] = [];
    for (const m of msgs) {
      if (!prepared.has(m.id)) continue;
      const plan = plans.get(m.id);
      if (plan === null || plan === undefined || !step.perform) performed.push(m);
      else toPerform.push(m);
    }
    if (toPerform.length > 0) performed.push(...(await this.perform(topic, toPerform, plans, outcomes, collected)));

    return this.inUnits(collected, performed, async (uow, group) => {
      const items: StepItem[] = group.map((msg) => ({ msg, plan: plans.get(msg.id) ?? null, outcome: outcomes.get(msg.id) }));
      const moved = (await step.apply(uow, items, this.ctx())) ?? new Map<string, OrderStatus>();
      await deleteDone(uow.trx, ending(moved, group).map((m) => m.id));
      // An order step that did not move an order has not run yet for it: it is counted where it ends or runs.
      for (const m of group) if (!isOrderStep(topic) || moved.get(m.orderId) !== undefined) collected.note(uow, m, 'done');
      return moved;
    });
  }

  /** The external calls of one step's messages: all at once where the step can, else one by one; a failed call fails only its message. */
  private async perform(topic: Topic, msgs: readonly OutboxMessage[], plans: Map<number, unknown>, outcomes: Map<number, unknown>, collected: Outcomes): Promise<OutboxMessage[]> {
    const step = STEPS[topic];
    const ctx = this.ctx();
    if (step.performAll && msgs.length > 1) {
      try {
        const results = await step.performAll(msgs.map((m) => plans.get(m.id)), ctx);
        msgs.forEach((m, i) => outcomes.set(m.id, results[i]));
        return [...msgs];
      } catch {
        // One call at a time below, so only the failing calls fail their messages.
      }
    }
    const ok: OutboxMessage[] = [];
    await Promise.all(
      msgs.map(async (m) => {
        try {
          outcomes.set(m.id, await step.perform!(plans.get(m.id), ctx));
          ok.push(m);
        } catch (err) {
          await this.fail(m, err, collected);
        }
      }),
    );
    return msgs.filter((m) => ok.includes(m));
  }

  /**
   * Runs `work` for all `messages` in one unit of work; if that fails, once per message. Returns,
   * for each message whose unit committed, the status its order moved to in that unit (undefined
   * when it did not move); failures are charged an attempt.
   */
  private async inUnits(
    collected: Outcomes,
    messages: readonly OutboxMessage[],
    work: (uow: UnitOfWork, group: readonly OutboxMessage[]) => Promise<Moved>,
  ): Promise<Map<number, OrderStatus | undefined>> {
    const ok = new Map<number, OrderStatus | undefined>();
    if (messages.length === 0) return ok;
    const attempt = async (group: readonly OutboxMessage[]) => {
      const moved = await this.deps.units.run((uow) => {
        uow.runs(unitMessages(group));
        return work(uow, group);
      });
      for (const m of group) ok.set(m.id, moved.get(m.orderId));
    };
    try {
      await attempt(messages);
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
    await this.deps.units.run(async (uow) => {
      await scheduleRetry(uow.trx, m, text, delayMs, uow.now);
      collected.note(uow, m, 'retry', text);
    });
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, retryInMs: delayMs, err: text }, 'step failed; will retry');
  }

  /** Dead-letters a message at its step and, in the same unit of work, compensates and cancels its order. */
  private async deadLetter(m: OutboxMessage, reason: string, collected: Outcomes): Promise<void> {
    let dead = false;
    await this.deps.units.run(async (uow) => {
      uow.runs(unitMessages([m]));
      dead = await markDead(uow.trx, m, reason, uow.now);
      if (!dead) return; // another worker got there first
      await compensateDeadLetter(uow, m.orderId);
      collected.note(uow, m, 'dead', reason);
    });
    if (!dead) return;
    this.deps.logger.warn({ orderId: m.orderId, topic: m.topic, messageId: m.id, attempt: m.attempts, reason }, 'message dead-lettered; its order is compensated if the pipeline still owed it work');
  }
}

const isFinal = (status: OrderStatus | undefined): boolean => status !== undefined && isSettled(status);

/**
 * What a message that can no longer be delivered does to its order: if the pipeline still owes the
 * order work, the order is compensated and cancelled with reason `failed`.
 */
export async function compensateDeadLetter(uow: UnitOfWork, orderId: string): Promise<void> {
  await cancelWithCompensation(uow, orderId, { reason: 'failed', allowedFrom: ['pending', 'reserved', 'paid'] });
}

/** Messages grouped by topic, in the pipeline's order of topics. */
function byTopic(msgs: readonly OutboxMessage[]): Map<Topic, OutboxMessage[]> {
  const out = new Map<Topic, OutboxMessage[]>();
  for (const topic of TOPICS) {
    const group = msgs.filter((m) => m.topic === topic);
    if (group.length > 0) out.set(topic, group);
  }
  return out;
}
