import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { CANCEL_REASONS, IN_PROGRESS_STATUSES, ORDER_STATUSES, type CancelReason, type OrderStatus } from '../domain/order-status.js';
import { listDeadLetters } from '../outbox/dead-letters.js';
import { STEP_OF_STATUS, TOPICS } from '../outbox/outbox.js';
import { readCounters } from './counters.js';
import { splitPending } from './outbox-depths.js';
import { moneyFromCounters } from './money-stats.js';
import {
  STATS_SCAN_CAP,
  type LatencyStats,
  type QueueCounts,
  type RecentOrder,
  type StatsSnapshot,
  type SettingChecks,
  type StockStats,
  type StuckOrders,
  type TopicStats,
} from './snapshot-types.js';
import { listWorkers } from '../workers/worker-registry.js';
import { countAvailableAtMost } from './stock-health.js';
import { findUnattendedWork, readWaitingWork } from '../workers/unattended-work.js';
import { listPauses } from '../pipeline/pauses.js';
import type { StatsService } from './stats-service.js';
import { DEFAULTS } from '../defaults.js';

/** What {@link collectStats} reads besides the database. */
export interface StatsSource {
  db: Kysely<Database>;
  storage: 'sqlite' | 'postgres';
  transport: 'local' | 'redis';
  version: string;
  /** config.stuckAfterMs. */
  stuckAfterMs: number;
  /** Placed → confirmed latency is taken over the orders confirmed this long ago at most; default 60 s. */
  latencyWindowMs?: number;
  /** Most recent orders listed (default 50) and dead letters (default 20). */
  recentLimit?: number;
  /** bee-queue's counts per topic (scale-out); absent or null: not shown. */
  queueCounts?: () => Promise<Map<string, QueueCounts> | null>;
  /** The background stock check's last result; absent: not run. */
  stock?: () => StockStats;
  /** Products at or below this many available count as low; counted with each snapshot. Default 5. */
  lowStockMark?: number;
  /** The background Redis setting checks' last result; absent: none. */
  settings?: () => SettingChecks;
  /** The answering process's uptime; default this process's. */
  uptimeMs?: () => number;
}

const LATENCY_SAMPLES = DEFAULTS.stats.latencySamples;

/**
 * Takes one stats snapshot of a deployment. Every figure comes from the trigger-kept counters
 * (migrations 0006, 0011 and 0017) or from a query bounded by an index range and {@link STATS_SCAN_CAP}; nothing
 * counts done outbox rows or the orders table. Read-only. Callers that poll should go through
 * {@link StatsService}, which adds rates, keeps the stock check in the background and computes at
 * most once per second however many ask.
 */
export async function collectStats(source: StatsSource, now = Date.now()): Promise<StatsSnapshot> {
  const started = performance.now();
  const { db } = source;
  const recentLimit = source.recentLimit ?? DEFAULTS.stats.recentOrders;
  const windowMs = source.latencyWindowMs ?? DEFAULTS.stats.latencyWindowMs;
  // One pooled connection, queries one after another: a snapshot must not take the connections
  // intake is waiting for (on Postgres, parallel queries held most of the pool for the whole snapshot).
  const fromDb = db.connection().execute(async (conn) => ({
    counters: await readCounters(conn),
    split: await splitPending(conn, now),
    stuck: await stuckOrders(conn, now, source.stuckAfterMs),
    latency: await confirmLatency(conn, now, windowMs),
    recent: await recentOrders(conn, recentLimit),
    deadLetters: await listDeadLetters(conn, Math.min(recentLimit, 20)),
    workers: await listWorkers(conn, now),
    work: await readWaitingWork(conn, now, source.transport),
    outOfStock: await countAvailableAtMost(conn, 0),
    lowStock: await countAvailableAtMost(conn, source.lowStockMark ?? 5),
    pauses: await listPauses(conn),
  }));
  const [{ counters, split, stuck, latency, recent, deadLetters, workers, work, outOfStock, lowStock, pauses }, queueCounts] = await Promise.all([
    fromDb,
    source.queueCounts ? source.queueCounts().catch(() => null) : Promise.resolve(null),
  ]);
  const counter = (name: string) => counters.get(name) ?? 0;

  // An order's run is one message, so the work waiting at an order step is the orders in the
  // status that step moves on; the outbox split (by the step each message was last claimed at)
  // tells how many of them are delayed for a retry or leased right now.
  const statusOfStep = new Map(Object.entries(STEP_OF_STATUS).map(([status, step]) => [step as string, status]));
  const topicNames = [...TOPICS, ...[...counters.keys()].flatMap((k) => (k.startsWith('outbox:pending:') ? [k.slice(15)] : []))];
  const topics: TopicStats[] = [...new Set(topicNames)].map((topic) => {
    const status = statusOfStep.get(topic);
    const pending = Math.max(0, counter(status ? `orders:${status}` : `outbox:pending:${topic}`));
    const s = split.byTopic.get(topic) ?? { delayed: 0, active: 0, oldestWaitingSince: null };
    const delayed = Math.min(pending, s.delayed);
    const active = Math.min(pending - delayed, s.active);
    const pause = pauses.find((p) => p.step === topic);
    return {
      topic,
      pending,
      waiting: pending - delayed - active,
      delayed,
      active,
      dead: counter(`outbox:dead:${topic}`),
      capped: split.capped,
      oldestWaitingMs: s.oldestWaitingSince === null ? null : Math.max(0, now - s.oldestWaitingSince),
      succeeded: status ? stepSucceeded(counter, topic) : counter(`outbox:done:${topic}`),
      failed: counter(`failed:${topic}`),
      redis: null,
      paused: pause ? { since: pause.pausedAt, reason: pause.reason } : null,
    };
  });

  const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, counter(`orders:${s}`)])) as Record<OrderStatus, number>;
  const cancelledByReason = Object.fromEntries(CANCEL_REASONS.map((r) => [r, counter(`cancelled:${r}`)])) as Record<CancelReason, number>;
  // Every order is in exactly one status, so their sum is every order ever placed.
  const ordersPlaced = ORDER_STATUSES.reduce((n, s) => n + byStatus[s], 0);
  const ordersCancelled = [...counters].reduce((n, [k, v]) => (k.startsWith('cancelled:') ? n + v : n), 0);

  const background: StockStats = source.stock?.() ?? {
    lowStockMark: source.lowStockMark ?? 5,
    outOfStock: null,
    lowStock: null,
    reconciliation: { status: 'pending', detail: 'the stock check has not run in this process', drifting: 0, checkedAt: null, ageMs: null },
  };
  const stock: StockStats = { ...background, outOfStock, lowStock };

  return {
    generatedAt: new Date(now).toISOString(),
    tookMs: Math.round((performance.now() - started) * 100) / 100,
    deployment: {
      cell: source.storage === 'sqlite' ? 'sqlite' : source.transport === 'redis' ? 'postgres+redis' : 'postgres',
      storage: source.storage,
      transport: source.transport,
      version: source.version,
      host: hostname(),
      pid: process.pid,
      uptimeMs: Math.round(source.uptimeMs?.() ?? process.uptime() * 1000),
    },
    topics,
    orders: { byStatus, cancelledByReason, stuck, recent },
    counters: {
      ordersPlaced,
      ordersReserved: counter('reached:reserved'),
      ordersPaid: counter('reached:paid'),
      ordersConfirmed: counter('reached:confirmed'),
      ordersCancelled,
    },
    money: moneyFromCounters(counter),
    rates: null,
    queue: queueCounts?.values().next().value ?? null,
    latency,
    workers,
    unattended: findUnattendedWork(work, workers),
    settings: source.settings?.() ?? { accepted: [], checks: [], checkedAt: null },
    stock,
    deadLetters,
  };
}

/** Runs of an order step that succeeded: orders that ever reached the status after it, or that it ended. */
function stepSucceeded(counter: (name: string) => number, step: string): number {
  switch (step) {
    case 'reserve':
      return counter('reached:reserved') + counter('cancelled:out_of_stock');
    case 'pay':
      return counter('reached:paid') + counter('cancelled:payment_declined');
    default:
      return counter('reached:confirmed');
  }
}

/** Orders in a non-final status unchanged for longer than the bound: one index range per status, in one statement. */
async function stuckOrders(db: Kysely<Database>, now: number, stuckAfterMs: number): Promise<StuckOrders> {
  const before = now - stuckAfterMs;
  const ranges = IN_PROGRESS_STATUSES.map(
    (status) => sql`select ${status} as status, count(*) as n, min(updated_at) as oldest
      from (select updated_at from orders where status = ${status} and updated_at < ${before}
            order by updated_at limit ${STATS_SCAN_CAP}) ${sql.id(`s_${status}`)}`,
  );
  const { rows } = await sql<{ status: OrderStatus; n: number; oldest: number | null }>`${sql.join(ranges, sql` union all `)}`.execute(db);
  const byStatus: Partial<Record<OrderStatus, number>> = {};
  let count = 0;
  let oldest: number | null = null;
  let capped = false;
  for (const r of rows) {
    const n = Number(r.n);
    if (n >= STATS_SCAN_CAP) capped = true;
    if (n === 0) continue;
    byStatus[r.status] = n;
    count += n;
    if (r.oldest !== null) oldest = oldest === null ? Number(r.oldest) : Math.min(oldest, Number(r.oldest));
  }
  return { count: { count, capped }, byStatus, oldestAgeMs: oldest === null ? null : Math.max(0, now - oldest), stuckAfterMs };
}

/**
 * Placed → confirmed over the orders confirmed in the window (still `confirmed`: one shipped since
 * has left the status index range), newest {@link LATENCY_SAMPLES} at most.
 */
async function confirmLatency(db: Kysely<Database>, now: number, windowMs: number): Promise<LatencyStats> {
  const rows = await db
    .selectFrom('orders')
    .select(['created_at', 'updated_at'])
    .where('status', '=', 'confirmed')
    .where('updated_at', '>=', now - windowMs)
    .orderBy('updated_at', 'desc')
    .limit(LATENCY_SAMPLES)
    .execute();
  const ms = rows.map((r) => Number(r.updated_at) - Number(r.created_at)).sort((a, b) => a - b);
  return { windowMs, samples: ms.length, samplesCapped: ms.length >= LATENCY_SAMPLES, p50Ms: percentile(ms, 0.5), p95Ms: percentile(ms, 0.95), p99Ms: percentile(ms, 0.99) };
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function recentOrders(db: Kysely<Database>, limit: number): Promise<RecentOrder[]> {
  // Ids are UUID v7: the primary key is already newest last.
  const rows = await db
    .selectFrom('orders')
    .select(['id', 'reference', 'status', 'total_cents', 'created_at'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    reference: r.reference,
    status: r.status,
    totalCents: Number(r.total_cents),
    createdAt: new Date(Number(r.created_at)).toISOString(),
  }));
}
