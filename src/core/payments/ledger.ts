import { sql } from 'kysely';
import type { Db, LedgerKind, LedgerStatus } from '../db/schema.js';
import { inSet, insertRows, rowSet } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';

/**
 * The payment ledger (DESIGN.md, "Money"): one row per authorization, capture, void and refund,
 * written `pending` in the unit of work that decides the call, before the call, and settled in the
 * unit that applies its answer. The row's key is the call's idempotency key, so a retried call
 * under it never moves money twice.
 */

/** The key an order's authorization is asked under (and the `payments` row's key). */
export function authorizationKey(orderId: string): string {
  return `order:${orderId}:charge`;
}

/** The key of the order's `n`th movement of a kind after the authorization (1-based). */
export function movementKey(orderId: string, kind: Exclude<LedgerKind, 'authorization'>, n: number): string {
  return `${authorizationKey(orderId)}:${kind}:${n}`;
}

/** A provider call a ledger row stands for. */
export interface LedgerCall {
  kind: LedgerKind;
  orderId: string;
  idempotencyKey: string;
  amountCents: number;
  /** The authorization's provider reference (captures, voids and refunds). */
  authorizationRef: string | null;
}

export interface LedgerAnswer {
  idempotencyKey: string;
  status: Exclude<LedgerStatus, 'pending'>;
  providerRef: string;
}

/** An order's money so far: sums of the succeeded rows, and the rows still awaiting their answer. */
export interface OrderMoney {
  authorizedCents: number;
  capturedCents: number;
  voidedCents: number;
  refundedCents: number;
  authorizationRef: string | null;
  /** Rows of each kind written so far (numbering the next key). */
  counts: Record<LedgerKind, number>;
  pending: LedgerCall[];
}

function emptyMoney(): OrderMoney {
  return { authorizedCents: 0, capturedCents: 0, voidedCents: 0, refundedCents: 0, authorizationRef: null, counts: { authorization: 0, capture: 0, void: 0, refund: 0 }, pending: [] };
}

/** The money of each of `orderIds` (every order gets an entry, empty when it has no rows). */
export async function moneyOf(db: Db, orderIds: readonly string[]): Promise<Map<string, OrderMoney>> {
  const out = new Map(orderIds.map((id) => [id, emptyMoney()]));
  if (orderIds.length === 0) return out;
  const rows = await db
    .selectFrom('payment_ledger')
    .select(['order_id', 'kind', 'amount_cents', 'status', 'provider_ref', 'idempotency_key'])
    .where(inSet(db, 'order_id', orderIds))
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const m = out.get(r.order_id)!;
    const amount = Number(r.amount_cents);
    m.counts[r.kind]++;
    if (r.kind === 'authorization' && r.status === 'succeeded') m.authorizationRef = r.provider_ref;
    if (r.status === 'pending') m.pending.push({ kind: r.kind, orderId: r.order_id, idempotencyKey: r.idempotency_key, amountCents: amount, authorizationRef: null });
    if (r.status !== 'succeeded') continue;
    if (r.kind === 'authorization') m.authorizedCents += amount;
    else if (r.kind === 'capture') m.capturedCents += amount;
    else if (r.kind === 'void') m.voidedCents += amount;
    else m.refundedCents += amount;
  }
  for (const m of out.values()) for (const p of m.pending) if (p.kind !== 'authorization') p.authorizationRef = m.authorizationRef;
  return out;
}

/**
 * Writes pending rows for `calls` (a row whose key exists already is left as it is: a concurrent
 * copy of the same decision wrote it, and both then call under the one key).
 */
export async function writePending(uow: UnitOfWork, calls: readonly LedgerCall[], extra: { reason?: string; returnId?: string } = {}): Promise<void> {
  await insertRows(
    uow.trx,
    'payment_ledger',
    calls.map((c) => ({
      order_id: c.orderId,
      kind: c.kind,
      amount_cents: c.amountCents,
      status: 'pending',
      idempotency_key: c.idempotencyKey,
      reason: extra.reason ?? null,
      return_id: extra.returnId ?? null,
      created_at: uow.now,
      updated_at: uow.now,
    })),
    { ignoreConflicts: true },
  );
}

/** Settles pending rows with the provider's answers; a row settled already (by a concurrent copy) is left alone. */
export async function settle(uow: UnitOfWork, answers: readonly LedgerAnswer[]): Promise<void> {
  if (answers.length === 0) return;
  const v = rowSet(uow.trx, 'v', [
    { name: 'idempotency_key', type: 'text', values: answers.map((a) => a.idempotencyKey) },
    { name: 'status', type: 'text', values: answers.map((a) => a.status) },
    { name: 'provider_ref', type: 'text', values: answers.map((a) => a.providerRef) },
  ]);
  await sql`update payment_ledger set status = v.status, provider_ref = v.provider_ref, updated_at = ${uow.now}
            from ${v} where payment_ledger.idempotency_key = v.idempotency_key and payment_ledger.status = 'pending'`.execute(uow.trx);
}

/**
 * Brings `payments.status` of `orderIds` in line with their ledgers (after captures, voids and
 * refunds): one statement however many orders, the sums taken in the database.
 */
export async function refreshSummaries(uow: UnitOfWork, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  const trx = uow.trx;
  const sum = (kind: LedgerKind) => sql.raw(`sum(case when kind = '${kind}' and status = 'succeeded' then amount_cents else 0 end)`);
  await sql`update payments set updated_at = ${uow.now}, status = case
              when s.captured > 0 then case when s.refunded >= s.captured then 'refunded' else 'captured' end
              when s.authorized > 0 then case when s.voided >= s.authorized then 'voided' else 'authorized' end
              else payments.status end
            from (select order_id, ${sum('authorization')} as authorized, ${sum('capture')} as captured, ${sum('void')} as voided, ${sum('refund')} as refunded
                  from payment_ledger where ${inSet(trx, 'order_id', orderIds)} group by order_id) as s
            where payments.order_id = s.order_id`.execute(trx);
}
