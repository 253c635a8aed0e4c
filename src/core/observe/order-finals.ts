import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { TransitionRecord } from '../db/unit-of-work.js';
import type { FinalOrder, OrderFinalNote, SettlingMessage } from './events.js';

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
