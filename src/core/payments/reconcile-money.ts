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
 * at shipment) nothing yet, a cancelled one has refunded all it captured and voided the rest, and
 * each received return has refunded exactly its received lines' price.
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
  const returnProblems = await findReturnProblems(db);
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
    const problem = problemOf(m, settling) ?? returnProblems.get(r.id);
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

/**
 * Received returns whose refund does not add up: the return's recorded refund against its received
 * lines' price, and (once no refund row of it is pending) its succeeded refund rows against both.
 * The first problem per order.
 */
async function findReturnProblems(db: Kysely<Database>): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('returns as r')
    .select([
      'r.id',
      'r.order_id',
      'r.refund_cents',
      sql<number>`(select coalesce(sum(rl.received_quantity * rl.unit_price_cents), 0) from return_lines rl where rl.return_id = r.id)`.as('price'),
      sql<number>`(select coalesce(sum(l.amount_cents), 0) from payment_ledger l where l.return_id = r.id and l.kind = 'refund' and l.status = 'succeeded')`.as('refunded'),
      sql<number>`(select count(*) from payment_ledger l where l.return_id = r.id and l.status = 'pending')`.as('pending'),
    ])
    .where('r.status', '=', 'received')
    .orderBy('r.order_id')
    .execute();
  const out = new Map<string, string>();
  for (const r of rows) {
    if (out.has(r.order_id)) continue;
    const price = Number(r.price);
    const recorded = Number(r.refund_cents ?? 0);
    const refunded = Number(r.refunded);
    if (recorded !== price) out.set(r.order_id, `return ${r.id} recorded a refund of ${recorded} for lines priced ${price}`);
    else if (Number(r.pending) === 0 && refunded !== price) out.set(r.order_id, `return ${r.id} refunded ${refunded} of its lines' price ${price}`);
  }
  return out;
}
