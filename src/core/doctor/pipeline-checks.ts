import type { Kysely } from 'kysely';
import { findStockDrift, type StockDrift } from '../catalog/reconcile.js';
import type { Database } from '../db/schema.js';
import { IN_PROGRESS_STATUSES } from '../domain/order-status.js';
import { formatDuration, withTimeout, type DoctorCheck } from './check.js';
import { findMoneyMismatches } from '../payments/reconcile-money.js';

/**
 * Work waiting longer than this many times `stuckAfterMs` (default 10 × 1 min) means nothing is
 * processing it, and the sweeper is not repairing it either: a failure rather than a warning.
 */
export const STALE_FACTOR = 10;

/** Products named in a drift detail; `data.drift` lists up to {@link DRIFT_LISTED}. */
const DRIFT_NAMED = 5;
const DRIFT_LISTED = 50;

/** What the outbox, order and stock checks need besides the database. */
export interface PipelineCheckOptions {
  /** The moment the checks measure ages from, ms since the epoch. */
  now: number;
  /** config.stuckAfterMs: how long work may wait before doctor calls it stuck. */
  stuckAfterMs: number;
  timeoutMs: number;
}

/**
 * `outbox-backlog`: pending outbox rows, and how long the oldest due one has waited since it
 * became due. Rows scheduled later (retries in backoff) and due rows younger than the stuck bound
 * are work in flight: ok. The oldest waiting past the bound: warn. Past {@link STALE_FACTOR} × the
 * bound: fail.
 */
export async function checkOutboxBacklog(db: Kysely<Database>, o: PipelineCheckOptions): Promise<DoctorCheck> {
  const [all, due] = await withTimeout(
    Promise.all([
      db
        .selectFrom('outbox')
        .where('status', '=', 'pending')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('outbox')
        .where('status', '=', 'pending')
        .where('available_at', '<=', o.now)
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('available_at').as('oldest')])
        .executeTakeFirstOrThrow(),
    ]),
    o.timeoutMs,
    'the outbox query',
  );
  const pending = Number(all.n);
  const dueCount = Number(due.n);
  const oldestDueWaitMs = due.oldest === null ? 0 : Math.max(0, o.now - Number(due.oldest));
  const data = { pending, due: dueCount, oldestDueWaitMs, stuckAfterMs: o.stuckAfterMs };
  const bound = formatDuration(o.stuckAfterMs);
  const waiting = `${dueCount} outbox ${dueCount === 1 ? 'row' : 'rows'} due, the oldest waiting ${formatDuration(oldestDueWaitMs)}`;

  if (pending === 0) return { name: 'outbox-backlog', status: 'ok', detail: 'no pending outbox rows', data };
  if (dueCount === 0) {
    return { name: 'outbox-backlog', status: 'ok', detail: `${pending} pending outbox ${pending === 1 ? 'row' : 'rows'}, none due yet (retries in backoff)`, data };
  }
  if (oldestDueWaitMs >= STALE_FACTOR * o.stuckAfterMs) {
    return {
      name: 'outbox-backlog',
      status: 'fail',
      detail: `${waiting} (over ${STALE_FACTOR} × the ${bound} stuck bound): no worker is processing them; start buildflow worker (or serve) and read its logs`,
      data,
    };
  }
  if (oldestDueWaitMs >= o.stuckAfterMs) {
    return {
      name: 'outbox-backlog',
      status: 'warn',
      detail: `${waiting} (over the ${bound} stuck bound): workers are behind or stopped; check that buildflow worker (or serve) runs and read its logs`,
      data,
    };
  }
  return { name: 'outbox-backlog', status: 'ok', detail: `${pending} pending outbox ${pending === 1 ? 'row' : 'rows'}, ${waiting}, under the ${bound} stuck bound`, data };
}

/**
 * `stuck-orders`: orders in pending/reserved/paid whose last change is older than `stuckAfterMs`.
 * None: ok. Some: warn (the sweeper re-drives them while a worker runs). The oldest past
 * {@link STALE_FACTOR} × the bound: fail, nothing is re-driving them.
 */
export async function checkStuckOrders(db: Kysely<Database>, o: PipelineCheckOptions): Promise<DoctorCheck> {
  const rows = await withTimeout(
    db
      .selectFrom('orders')
      .where('status', 'in', [...IN_PROGRESS_STATUSES])
      .where('updated_at', '<', o.now - o.stuckAfterMs)
      .select((eb) => ['status', eb.fn.countAll<number>().as('n'), eb.fn.min('updated_at').as('oldest')])
      .groupBy('status')
      .execute(),
    o.timeoutMs,
    'the orders query',
  );
  const byStatus: Record<string, number> = {};
  let count = 0;
  let oldest = Infinity;
  for (const r of rows) {
    byStatus[r.status] = Number(r.n);
    count += Number(r.n);
    oldest = Math.min(oldest, Number(r.oldest));
  }
  const oldestAgeMs = count === 0 ? 0 : Math.max(0, o.now - oldest);
  const data = { count, byStatus, oldestAgeMs, stuckAfterMs: o.stuckAfterMs };
  const bound = formatDuration(o.stuckAfterMs);
  if (count === 0) {
    return { name: 'stuck-orders', status: 'ok', detail: `no order has sat in ${IN_PROGRESS_STATUSES.join('/')} for over ${bound}`, data };
  }
  const split = IN_PROGRESS_STATUSES.filter((s) => byStatus[s]).map((s) => `${byStatus[s]} ${s}`).join(', ');
  const found = `${count} ${count === 1 ? 'order' : 'orders'} stuck for over ${bound} (${split}; oldest ${formatDuration(oldestAgeMs)})`;
  if (oldestAgeMs >= STALE_FACTOR * o.stuckAfterMs) {
    return {
      name: 'stuck-orders',
      status: 'fail',
      detail: `${found}, over ${STALE_FACTOR} × the bound: nothing is re-driving them; start buildflow worker (or serve), then check buildflow dead-letters list`,
      data,
    };
  }
  return {
    name: 'stuck-orders',
    status: 'warn',
    detail: `${found}: the sweeper re-drives them while a worker runs; if this persists, read the worker logs and buildflow dead-letters list`,
    data,
  };
}

/**
 * `stock-reconciliation`: every product's on_hand and reserved equal the sums of its ledger rows
 * (DESIGN.md promise 2, via {@link findStockDrift}). Any drift: fail.
 */
export async function checkStockReconciliation(db: Kysely<Database>, o: Pick<PipelineCheckOptions, 'timeoutMs'>): Promise<DoctorCheck> {
  const [drift, products] = await withTimeout(
    Promise.all([
      findStockDrift(db),
      db
        .selectFrom('products')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]),
    o.timeoutMs,
    'the reconciliation query',
  );
  const productCount = Number(products.n);
  if (drift.length === 0) {
    return {
      name: 'stock-reconciliation',
      status: 'ok',
      detail: `${productCount} ${productCount === 1 ? 'product' : 'products'}: on_hand and reserved agree with the stock ledger`,
      data: { products: productCount, drifting: 0, drift: [] },
    };
  }
  const named = drift.slice(0, DRIFT_NAMED).map(describeDrift).join('; ');
  const more = drift.length > DRIFT_NAMED ? `; ${drift.length - DRIFT_NAMED} more` : '';
  return {
    name: 'stock-reconciliation',
    status: 'fail',
    detail: `${drift.length} of ${productCount} products disagree with their stock ledger (${named}${more}): stock was changed outside buildflow; find the cause before correcting it`,
    data: { products: productCount, drifting: drift.length, drift: drift.slice(0, DRIFT_LISTED) },
  };
}

/**
 * `money-reconciliation`: every order's payment ledger adds up (DESIGN.md, "Money", via
 * {@link findMoneyMismatches}). Any order that does not: fail, naming the first few.
 */
export async function checkMoneyReconciliation(db: Kysely<Database>, o: Pick<PipelineCheckOptions, 'timeoutMs'>): Promise<DoctorCheck> {
  const mismatches = await withTimeout(findMoneyMismatches(db), o.timeoutMs, 'the money reconciliation query');
  if (mismatches.length === 0) {
    return { name: 'money-reconciliation', status: 'ok', detail: "every order's payment ledger adds up", data: { mismatched: 0, orders: [] } };
  }
  const named = mismatches.slice(0, DRIFT_NAMED).map((m) => `${m.reference}: ${m.problem}`).join('; ');
  const more = mismatches.length > DRIFT_NAMED ? `; ${mismatches.length - DRIFT_NAMED} more` : '';
  return {
    name: 'money-reconciliation',
    status: 'fail',
    detail: `${mismatches.length} ${mismatches.length === 1 ? 'order does' : 'orders do'} not add up (${named}${more}): compare the payment ledger with the provider's books before correcting it`,
    data: { mismatched: mismatches.length, orders: mismatches.slice(0, DRIFT_LISTED) },
  };
}

function describeDrift(d: StockDrift): string {
  const parts: string[] = [];
  if (d.onHand !== d.ledgerOnHand) parts.push(`on_hand ${d.onHand}, ledger ${d.ledgerOnHand}`);
  if (d.reserved !== d.ledgerReserved) parts.push(`reserved ${d.reserved}, ledger ${d.ledgerReserved}`);
  return `${d.sku}: ${parts.join(', ')}`;
}
