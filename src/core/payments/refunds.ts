import { createHash } from 'node:crypto';
import type { Db, LedgerKind, LedgerStatus } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { UnitOfWork, UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { enqueue } from '../outbox/outbox.js';
import { authorizationKey, moneyOf, writePending } from './ledger.js';

/** One row of an order's payment ledger, as the API shows it. */
export interface LedgerEntryView {
  id: number;
  orderId: string;
  kind: LedgerKind;
  amountCents: number;
  status: LedgerStatus;
  /** The key the provider call carries. */
  idempotencyKey: string;
  providerRef?: string;
  reason?: string;
  returnId?: string;
  createdAt: string;
  updatedAt: string;
}

export interface RefundRequest {
  /** The client's `Idempotency-Key`: the same key and body answer the refund already asked. */
  idempotencyKey: string;
  reason: string;
  amountCents?: number;
  items?: readonly { sku: string; quantity: number }[];
}

type LedgerRow = Awaited<ReturnType<typeof ledgerRows>>[number];

function ledgerRows(db: Db, orderId: string) {
  return db.selectFrom('payment_ledger').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
}

function toView(r: LedgerRow): LedgerEntryView {
  return {
    id: Number(r.id),
    orderId: r.order_id,
    kind: r.kind,
    amountCents: Number(r.amount_cents),
    status: r.status,
    idempotencyKey: r.idempotency_key,
    ...(r.provider_ref ? { providerRef: r.provider_ref } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.return_id ? { returnId: r.return_id } : {}),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    updatedAt: new Date(Number(r.updated_at)).toISOString(),
  };
}

/** An order's payment ledger, oldest first. */
export async function listLedger(db: Db, orderId: string): Promise<LedgerEntryView[]> {
  return (await ledgerRows(db, orderId)).map(toView);
}

/** The ledger key of a refund asked with the client's key: stable for the key, short whatever its length. */
export function refundRequestKey(orderId: string, clientKey: string): string {
  return `${authorizationKey(orderId)}:refund:req:${createHash('sha256').update(clientKey).digest('hex').slice(0, 32)}`;
}

/** The amount a refund asks: given, or the price of the lines named (never more of a line than was bought). */
async function amountOf(db: Db, orderId: string, r: RefundRequest): Promise<number> {
  if (r.amountCents !== undefined) return r.amountCents;
  const lines = await db.selectFrom('order_items').select(['sku', 'quantity', 'unit_price_cents']).where('order_id', '=', orderId).execute();
  let total = 0;
  const asked = new Map<string, number>();
  for (const i of r.items ?? []) asked.set(i.sku, (asked.get(i.sku) ?? 0) + i.quantity);
  for (const [sku, quantity] of asked) {
    const bought = lines.filter((l) => l.sku === sku);
    const n = bought.reduce((s, l) => s + Number(l.quantity), 0);
    if (n === 0) throw new BuildflowError('VALIDATION_FAILED', `order ${orderId} has no line of ${sku}`);
    if (quantity > n) throw new BuildflowError('REFUND_EXCEEDS_CAPTURED', `refund of ${quantity} × ${sku} exceeds the ${n} bought`, { sku, asked: quantity, bought: n });
    total += Number(bought[0]!.unit_price_cents) * quantity;
  }
  return total;
}

/**
 * Asks a refund of an order's captured money (the admin's concession, by amount or by lines). In
 * one short transaction, under the order's row lock (Postgres; SQLite writes one at a time), so
 * two racing refunds cannot both pass: never more than captured less refunded less the refunds
 * still pending; a pending refund row is written and a message queued that asks the provider.
 * The same client key and body answer the refund already asked; another body under it is refused.
 * @throws BuildflowError ORDER_NOT_FOUND, REFUND_EXCEEDS_CAPTURED, IDEMPOTENCY_KEY_REUSED, VALIDATION_FAILED
 */
export async function requestRefund(units: UnitRunner, orderId: string, r: RefundRequest): Promise<{ refund: LedgerEntryView; replayed: boolean }> {
  const key = refundRequestKey(orderId, r.idempotencyKey);
  return units.run(
    async (uow) => {
      const trx = uow.trx;
      const order = await lockOrderRow(trx, orderId);
      if (!order) throw new BuildflowError('ORDER_NOT_FOUND', `order ${orderId} not found`);
      const amount = await amountOf(trx, orderId, r);
      const earlier = await trx.selectFrom('payment_ledger').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
      if (earlier) {
        if (Number(earlier.amount_cents) !== amount || earlier.reason !== r.reason) {
          throw new BuildflowError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different refund');
        }
        return { refund: toView(earlier), replayed: true };
      }
      if (!Number.isInteger(amount) || amount <= 0) throw new BuildflowError('VALIDATION_FAILED', 'a refund is of a positive amount');
      const row = await writeRefund(uow, orderId, amount, key, { reason: r.reason });
      return { refund: row, replayed: false };
    },
    { durable: true },
  );
}

/**
 * Reads an order's status under its row lock (Postgres; SQLite writes one at a time): the lock
 * that serialises refunds and returns of one order, so two racing cannot both pass their check.
 * FOR NO KEY UPDATE is enough for that (it conflicts with itself and with any status update) and,
 * unlike FOR UPDATE, does not hold up rows inserted meanwhile that name the order (their foreign
 * keys take KEY SHARE on it).
 */
export function lockOrderRow(trx: Db, orderId: string): Promise<{ status: OrderStatus } | undefined> {
  const q = trx.selectFrom('orders').select('status').where('id', '=', orderId);
  return (isPostgres(trx) ? q.forNoKeyUpdate() : q).executeTakeFirst();
}

/**
 * Writes a pending refund row of `amountCents` under `key` and queues the message that asks the
 * provider, in the caller's unit, which holds the order's row lock: never more than captured less
 * refunded less the refunds still pending.
 * @throws BuildflowError REFUND_EXCEEDS_CAPTURED
 */
export async function writeRefund(uow: UnitOfWork, orderId: string, amountCents: number, key: string, extra: { reason: string; returnId?: string }): Promise<LedgerEntryView> {
  const trx = uow.trx;
  const m = (await moneyOf(trx, [orderId])).get(orderId)!;
  const pendingRefunds = m.pending.filter((p) => p.kind === 'refund').reduce((s, p) => s + p.amountCents, 0);
  const refundable = m.capturedCents - m.refundedCents - pendingRefunds;
  if (amountCents > refundable) {
    throw new BuildflowError(
      'REFUND_EXCEEDS_CAPTURED',
      `refund of ${amountCents} cents exceeds what can be refunded: captured ${m.capturedCents}, refunded ${m.refundedCents + pendingRefunds} (${pendingRefunds} of it pending)`,
      { amountCents, capturedCents: m.capturedCents, refundedCents: m.refundedCents + pendingRefunds },
    );
  }
  await writePending(uow, [{ kind: 'refund', orderId, idempotencyKey: key, amountCents, authorizationRef: m.authorizationRef }], extra);
  enqueue(uow, [{ topic: 'refund', orderId }]);
  return toView(await trx.selectFrom('payment_ledger').selectAll().where('idempotency_key', '=', key).executeTakeFirstOrThrow());
}
