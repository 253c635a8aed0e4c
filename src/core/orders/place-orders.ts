import type { OrderItemRow, OrderRow } from '../db/schema.js';
import type { BatchProgram, UnitOfWork } from '../db/unit-of-work.js';
import { BuildflowError, type ErrorCode } from '../errors.js';
import { newOrderId } from '../ids.js';
import { priceItems, type RequestedItem } from '../domain/pricing.js';
import { toOrderView, type OrderView } from './order-view.js';
import { takeOrderReferences } from './reference-numbers.js';
import { recordCreated } from './transition.js';

/** Idempotency keys are scoped by operation, so one key may be used for different kinds of request. */
export const ORDER_IDEMPOTENCY_SCOPE = 'POST /v1/orders';

/** One order request as intake queues it: validated, with the fingerprint of its body. */
export interface OrderRequest {
  items: RequestedItem[];
  idempotencyKey?: string;
  /** Fingerprint of the items; present with an idempotency key. */
  hash?: string;
  /** Owner from the caller's credentials (never from a request body); absent for an unowned admin order. */
  customerId?: string;
  /** Most orders the owner may hold in pending/reserved at once, this one included. */
  maxOpenOrders?: number;
}

/** An order the batch will write; its reference is filled in once the batch's numbers are drawn. */
interface Accepted {
  order: OrderRow;
  lines: OrderItemRow[];
  key?: { scope: string; key: string; hash: string };
}

/** Idempotency keys of a customer's orders live in their own scope: one customer can never replay another's. */
function scopeOf(r: OrderRequest): string {
  return r.customerId ? `${ORDER_IDEMPOTENCY_SCOPE} ${r.customerId}` : ORDER_IDEMPOTENCY_SCOPE;
}

/**
 * A placed order as intake answers it: its id, and its view as JSON text. The text is made once,
 * where the order is written (the writer thread on SQLite), and is what the API sends and an
 * idempotent replay returns, so the answer is neither copied object by object between threads
 * nor serialized again.
 */
export interface PlacedOrder {
  id: string;
  json: string;
}

/**
 * What became of one request. Plain data (no Error objects), so it crosses a thread boundary
 * unchanged; {@link outcomeError} turns a failure back into a {@link BuildflowError}.
 */
export type OrderOutcome =
  | { ok: true; order: PlacedOrder; replayed: boolean }
  | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

export function outcomeError(o: Extract<OrderOutcome, { ok: false }>): BuildflowError {
  return new BuildflowError(o.code, o.message, o.details);
}

/**
 * Places a batch of orders in one unit of work: one lookup of idempotency keys, one of prices,
 * then the orders, their items, history (`recordCreated`), outbox messages and idempotency records
 * collected in the unit, which writes each table in one statement. A request that cannot be placed
 * (unknown sku, key reused with another body) gets a failed outcome and writes nothing; its
 * neighbours are unaffected.
 */
async function placeOrders(uow: UnitOfWork, batch: readonly OrderRequest[]): Promise<OrderOutcome[]> {
  const { trx, now } = uow;
  const keys = [...new Set(batch.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : [])))];
  const scopes = [...new Set(batch.flatMap((r) => (r.idempotencyKey ? [scopeOf(r)] : [])))];
  // A key stored earlier (its response body) or first used in this batch (the order it makes).
  const seen = new Map<string, { hash: string; body?: string; accepted?: number }>();
  const seenKey = (scope: string, key: string) => `${scope}\n${key}`;
  if (keys.length > 0) {
    const rows = await trx
      .selectFrom('idempotency_keys')
      .select(['scope', 'key', 'request_hash', 'response_body'])
      .where('scope', 'in', scopes)
      .where('key', 'in', keys)
      .execute();
    for (const r of rows) seen.set(seenKey(r.scope, r.key), { hash: r.request_hash, body: r.response_body });
  }
  // Open orders per owner, counted in the write transaction (writes are serialized), so concurrent
  // requests cannot together exceed the limit.
  const owners = [...new Set(batch.flatMap((r) => (r.customerId && r.maxOpenOrders !== undefined ? [r.customerId] : [])))];
  const open = new Map<string, number>();
  if (owners.length > 0) {
    const rows = await trx
      .selectFrom('orders')
      .select((eb) => ['customer_id', eb.fn.countAll<number>().as('n')])
      .where('customer_id', 'in', owners)
      .where('status', 'in', ['pending', 'reserved'])
      .groupBy('customer_id')
      .execute();
    for (const r of rows) open.set(r.customer_id!, Number(r.n));
  }
  const skus = [...new Set(batch.flatMap((r) => r.items.map((i) => i.sku)))];
  const products = await trx.selectFrom('products').select(['sku', 'name', 'unit_price_cents']).where('sku', 'in', skus).execute();
  const catalog = new Map(products.map((p) => [p.sku, { name: p.name, unitPriceCents: p.unit_price_cents }]));

  const accepted: Accepted[] = [];
  const drafts = batch.map((r): OrderOutcome | { accepted: number; replayed: boolean } => {
    const key = r.idempotencyKey;
    const scoped = key ? seenKey(scopeOf(r), key) : undefined;
    const previous = scoped ? seen.get(scoped) : undefined;
    if (previous) {
      if (previous.hash !== r.hash) {
        return { ok: false, code: 'IDEMPOTENCY_KEY_REUSED', message: 'this Idempotency-Key was used with a different request body' };
      }
      return previous.body !== undefined
        ? { ok: true, order: { id: (JSON.parse(previous.body) as OrderView).id, json: previous.body }, replayed: true }
        : { accepted: previous.accepted!, replayed: true };
    }
    const priced = priceItems(r.items, catalog);
    if (priced.unknownSkus.length > 0) {
      return { ok: false, code: 'UNKNOWN_SKU', message: `unknown sku: ${priced.unknownSkus.join(', ')}`, details: { skus: priced.unknownSkus } };
    }
    if (r.customerId && r.maxOpenOrders !== undefined) {
      const held = open.get(r.customerId) ?? 0;
      if (held >= r.maxOpenOrders) {
        return {
          ok: false,
          code: 'TOO_MANY_OPEN_ORDERS',
          message: `at most ${r.maxOpenOrders} orders may be pending or reserved at once; wait until one is paid or cancel one`,
        };
      }
      open.set(r.customerId, held + 1);
    }
    const order = {
      id: newOrderId(now),
      reference: '',
      customer_id: r.customerId ?? null,
      status: 'pending' as const,
      cancel_reason: null,
      total_cents: priced.totalCents,
      item_count: priced.items.length,
      reservation_expires_at: null,
      created_at: now,
      updated_at: now,
    };
    const lines = priced.items.map((it, line_no) => ({
      order_id: order.id,
      line_no,
      sku: it.sku,
      name: it.name,
      quantity: it.quantity,
      unit_price_cents: it.unitPriceCents,
      line_total_cents: it.lineTotalCents,
    }));
    if (scoped) seen.set(scoped, { hash: r.hash!, accepted: accepted.length });
    accepted.push({ order, lines, ...(key ? { key: { scope: scopeOf(r), key, hash: r.hash! } } : {}) });
    return { accepted: accepted.length - 1, replayed: false };
  });

  const references = await takeOrderReferences(trx, accepted.length);
  const placed = accepted.map((a, i): PlacedOrder => {
    a.order.reference = references[i]!;
    const json = JSON.stringify(toOrderView(a.order, a.lines));
    if (a.key) uow.add('idempotency_keys', [{ scope: a.key.scope, key: a.key.key, request_hash: a.key.hash, response_status: 201, response_body: json, created_at: now }]);
    uow.add('orders', [a.order]);
    uow.add('order_items', a.lines);
    recordCreated(uow, a.order.id);
    uow.add('outbox', [{ topic: 'reserve', order_id: a.order.id, payload: '{}', status: 'pending', attempts: 0, available_at: now, created_at: now }]);
    return { id: a.order.id, json };
  });
  return drafts.map((d) => ('accepted' in d ? { ok: true, order: placed[d.accepted]!, replayed: d.replayed } : d));
}

/** Order intake's batch program: what the commit engines run for POST /v1/orders. */
export const PLACE_ORDERS: BatchProgram<OrderRequest, OrderOutcome> = {
  name: 'place-orders',
  run: placeOrders,
  failed: (err) =>
    err instanceof BuildflowError
      ? { ok: false, code: err.code, message: err.message }
      : // The database refused the write (busy, full, broken): the client may retry with its key.
        { ok: false, code: 'UNAVAILABLE', message: 'the order could not be stored; retry with the same Idempotency-Key' },
};
