import type { Topic } from '../outbox/outbox.js';

/** An order that reached a final state for the pipeline, noted in the transaction that moved it. */
export interface OrderFinalNote {
  orderId: string;
  status: 'confirmed' | 'cancelled';
  /** The cancel reason; null for confirmed. */
  reason: string | null;
  /** When the transition was made, ms since the epoch. */
  at: number;
}

/** The pipeline message whose commit settled an order, when a worker settled it. */
export interface SettlingMessage {
  messageId: number;
  topic: Topic;
  attempt: number;
}

/**
 * A committed final state with what a person reading a log line wants to know of the order. The
 * order's own fields are null when they could not be read after the commit (the state still
 * counts: it committed).
 */
export interface FinalOrder extends OrderFinalNote {
  reference: string | null;
  totalCents: number | null;
  /** When the order was placed, ms since the epoch. */
  placedAt: number | null;
  /** The message that settled it; absent for a customer cancel or the sweeper. */
  message?: SettlingMessage;
}

/** How one message's run through its step ended: its effect committed, a retry was scheduled, or it was dead-lettered. */
export type StepOutcomeKind = 'done' | 'retry' | 'dead';

/** One message's attempt at its step, reported once its outcome is committed. */
export interface StepOutcome {
  messageId: number;
  topic: Topic;
  orderId: string;
  /** The attempt this was (1 for the first delivery). */
  attempt: number;
  outcome: StepOutcomeKind;
  /** From the start of the batch that ran it to its outcome's commit. */
  seconds: number;
  /** Why it failed (retry, dead). */
  error?: string;
}

/**
 * What happened in a deployment, reported after it committed, never when it was merely
 * attempted: the edges (metrics, logs) listen here, so core knows no metric or logger.
 */
export interface BuildflowListener {
  /** New orders committed by intake (replays of an idempotency key are not new). */
  ordersPlaced?(count: number): void;
  /** Orders whose move to confirmed or cancelled committed. */
  ordersFinal?(orders: readonly FinalOrder[]): void;
  /** Messages whose step outcome committed. */
  stepOutcomes?(outcomes: readonly StepOutcome[]): void;
  /** The Redis product cache became unusable (reads go to the database), or usable again: once each. */
  cacheAvailability?(up: boolean, reason?: string): void;
}

/**
 * Fans each event out to the listeners added so far. A listener that throws is ignored: watching
 * a deployment must never break it.
 */
export class BuildflowEvents {
  private listeners: BuildflowListener[] = [];

  /** Adds a listener; the returned function removes it. */
  add(listener: BuildflowListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** True when some listener wants final orders (so their details are worth a query). */
  wantsFinalOrders(): boolean {
    return this.listeners.some((l) => l.ordersFinal);
  }

  ordersPlaced(count: number): void {
    for (const l of this.listeners) safely(() => l.ordersPlaced?.(count));
  }

  ordersFinal(orders: readonly FinalOrder[]): void {
    if (orders.length === 0) return;
    for (const l of this.listeners) safely(() => l.ordersFinal?.(orders));
  }

  stepOutcomes(outcomes: readonly StepOutcome[]): void {
    if (outcomes.length === 0) return;
    for (const l of this.listeners) safely(() => l.stepOutcomes?.(outcomes));
  }

  cacheAvailability(up: boolean, reason?: string): void {
    for (const l of this.listeners) safely(() => l.cacheAvailability?.(up, reason));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A broken listener must not undo or stop the work that was already committed.
  }
}
