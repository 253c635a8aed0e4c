import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** An order whose money does not add up (DESIGN.md, "Money"). */
export interface MoneyMismatch {
  orderId: string;
  reference: string;
  status: string;
  totalCents: number;
  authorizedCents: number;
  capturedCents: number;
  voidedCents: number;
  refundedCents: number;
  problem: string;
}

/** What {@link reconcileMoney} found among the orders it read. */
export interface MoneyReconciliation {
  /** Orders read: those asked for money, or that should have been. */
  checked: number;
  /** Orders with a ledger row awaiting its answer or a refund message queued: judged once settled. */
  settling: string[];
  /** Orders that break a rule (at most `limit`). */
  mismatches: MoneyMismatch[];
}

/**
 * Every order's payment ledger against DESIGN.md's "Money": at all times refunded ≤ captured and
 * captured + voided ≤ authorized; once settled (no ledger row pending, no refund message queued), a
 * shipped or delivered order has captured exactly its total, a confirmed one its total or (capture
 * at shipment) nothing yet, and a cancelled one has refunded all it captured and voided the rest.
 * Only orders that were ever asked for money, or should have been, are read; with `since`, only
 * those created at or after it (ms since the epoch).
 */
export async function reconcileMoney(db: Kysely<Database>, o: { limit?: number; since?: number } = {}): Promise<MoneyReconciliation> {
  const limit = o.limit ?? 1000;
  const sum = (kind: string) => sql<number>`coalesce(sum(case when l.kind = ${kind} and l.status = 'succeeded' then l.amount_cents else 0 end), 0)`;
  let query = db
    .selectFrom('orders as o')
    .leftJoin('payment_ledger as l', 'l.order_id', 'o.id')
    .select([
      'o.id',
      'o.reference',
      'o.status',
      'o.total_cents',
      sum('authorization').as('authorized'),
      sum('capture').as('captured'),
      sum('void').as('voided'),
      sum('refund').as('refunded'),
      sql<number>`coalesce(sum(case when l.status = 'pending' then 1 else 0 end), 0)`.as('pending'),
      sql<number>`(select count(*) from outbox b where b.order_id = o.id and b.topic = 'refund' and b.status = 'pending')`.as('queued'),
    ])
    .where((eb) => eb.or([eb('o.status', 'in', ['confirmed', 'shipped', 'delivered']), eb.exists(eb.selectFrom('payment_ledger as x').select('x.id').whereRef('x.order_id', '=', 'o.id'))]));
  if (o.since !== undefined) query = query.where('o.created_at', '>=', o.since);
  const rows = await query.groupBy(['o.id', 'o.reference', 'o.status', 'o.total_cents']).orderBy('o.id').execute();
  const out: MoneyReconciliation = { checked: rows.length, settling: [], mismatches: [] };
  for (const r of rows) {
    const m = {
      orderId: r.id,
      reference: r.reference,
      status: r.status,
      totalCents: Number(r.total_cents),
      authorizedCents: Number(r.authorized),
      capturedCents: Number(r.captured),
      voidedCents: Number(r.voided),
      refundedCents: Number(r.refunded),
    };
    const settling = Number(r.pending) > 0 || Number(r.queued) > 0;
    if (settling) out.settling.push(r.id);
    const problem = problemOf(m, settling);
    if (problem && out.mismatches.length < limit) out.mismatches.push({ ...m, problem });
  }
  return out;
}

/** The orders whose money does not add up (see {@link reconcileMoney}), at most `limit`. */
export async function findMoneyMismatches(db: Kysely<Database>, limit = 1000): Promise<MoneyMismatch[]> {
  return (await reconcileMoney(db, { limit })).mismatches;
}

function problemOf(m: Omit<MoneyMismatch, 'problem'>, settling: boolean): string | undefined {
  if (m.refundedCents > m.capturedCents) return `refunded ${m.refundedCents} exceeds captured ${m.capturedCents}`;
  if (m.capturedCents + m.voidedCents > m.authorizedCents) return `captured ${m.capturedCents} and voided ${m.voidedCents} exceed authorized ${m.authorizedCents}`;
  if (settling) return undefined;
  if (m.status === 'shipped' || m.status === 'delivered') {
    if (m.capturedCents !== m.totalCents) return `${m.status} with ${m.capturedCents} captured of a total of ${m.totalCents}`;
  } else if (m.status === 'confirmed') {
    const awaitingShipment = m.capturedCents === 0 && m.authorizedCents - m.voidedCents === m.totalCents;
    if (m.capturedCents !== m.totalCents && !awaitingShipment) return `confirmed with ${m.capturedCents} captured of a total of ${m.totalCents}`;
  } else if (m.status === 'cancelled') {
    if (m.refundedCents !== m.capturedCents) return `cancelled with ${m.capturedCents - m.refundedCents} captured and not refunded`;
    if (m.voidedCents !== m.authorizedCents - m.capturedCents) return `cancelled with ${m.authorizedCents - m.capturedCents - m.voidedCents} authorized and not voided`;
  }
  return undefined;
}
