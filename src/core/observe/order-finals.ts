import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { CommittedWork, TransitionRecord, UnitMessage, UnitRunner } from '../db/unit-of-work.js';
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

/**
 * The final states among a committed unit's transitions (confirmed, or cancelled with its reason):
 * what metrics and order logs report, taken only from work that committed.
 */
export function orderFinalsOf(transitions: readonly TransitionRecord[], at: number): OrderFinalNote[] {
  const out: OrderFinalNote[] = [];
  for (const t of transitions) {
    if (t.to === 'confirmed' || t.to === 'cancelled') out.push({ orderId: t.orderId, status: t.to, reason: t.reason, at });
  }
  return out;
}


// Bounds one lookup's IN list (SQLite allows 32,766 bound values; Postgres 65,535).
const LOOKUP_CHUNK = 500;

/**
 * Adds each settled order's reference, total and placement time, in one query per 500 orders,
 * and the message that settled it where `messageOf` knows it. If the query fails, the fields are
 * null rather than the final state lost.
 */
export async function describeOrderFinals(
  db: Kysely<Database>,
  notes: readonly OrderFinalNote[],
  messageOf?: (orderId: string) => SettlingMessage | undefined,
): Promise<FinalOrder[]> {
  const out: FinalOrder[] = [];
  for (let i = 0; i < notes.length; i += LOOKUP_CHUNK) {
    const chunk = notes.slice(i, i + LOOKUP_CHUNK);
    let rows: { id: string; reference: string; total_cents: number; created_at: number }[] = [];
    try {
      rows = await db
        .selectFrom('orders')
        .select(['id', 'reference', 'total_cents', 'created_at'])
        .where('id', 'in', [...new Set(chunk.map((n) => n.orderId))])
        .execute();
    } catch {
      // The database went away after the commit: report what is known.
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const n of chunk) {
      const row = byId.get(n.orderId);
      const message = messageOf?.(n.orderId);
      out.push({
        ...n,
        reference: row?.reference ?? null,
        totalCents: row ? Number(row.total_cents) : null,
        placedAt: row ? Number(row.created_at) : null,
        ...(message ? { message } : {}),
      });
    }
  }
  return out;
}

/** The message that settled each order of `work`: its own step's, never a notify the same unit ran for it. */
function settlingMessages(messages: readonly UnitMessage[]): (orderId: string) => SettlingMessage | undefined {
  const byOrder = new Map<string, UnitMessage>();
  for (const m of messages) if (!byOrder.has(m.orderId) || byOrder.get(m.orderId)!.topic === 'notify') byOrder.set(m.orderId, m);
  return (orderId) => {
    const m = byOrder.get(orderId);
    return m ? { messageId: m.messageId, topic: m.topic as Topic, attempt: m.attempt } : undefined;
  };
}

// One lookup per committed unit however many listeners want its final orders.
const described = new WeakMap<CommittedWork, Promise<FinalOrder[]>>();

/** The orders `work` settled, described; looked up once per unit and shared by every listener. */
export function finalOrdersOf(db: Kysely<Database>, work: CommittedWork): Promise<FinalOrder[]> {
  let found = described.get(work);
  if (!found) {
    const notes = orderFinalsOf(work.transitions, work.now);
    found = notes.length === 0 ? Promise.resolve([]) : describeOrderFinals(db, notes, settlingMessages(work.messages));
    described.set(work, found);
  }
  return found;
}

/**
 * Calls `listener` with the orders each committed unit settled (pipeline, sweeper, cancel,
 * dead-letter compensation): a rolled-back unit runs no hook, so nothing is reported on attempt.
 * The lookup is not awaited by the unit, so a listener never slows the write. Returns the removal.
 */
export function onOrdersFinal(units: UnitRunner, listener: (orders: readonly FinalOrder[]) => void): () => void {
  return units.onCommit((work) => {
    if (!work.transitions.some((t) => t.to === 'confirmed' || t.to === 'cancelled')) return;
    void finalOrdersOf(units.db, work).then((orders) => {
      if (orders.length === 0) return;
      try {
        listener(orders);
      } catch {
        // A broken listener must not undo or stop the work that was already committed.
      }
    });
  });
}
