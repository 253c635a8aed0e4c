import type { CancelReason, OrderStatus } from '../domain/order-status.js';
import { DEFAULTS } from '../defaults.js';
import type { DeadLetterView } from '../outbox/dead-letters.js';
import type { UnattendedWork } from '../workers/unattended-work.js';
import type { WorkerStats } from '../workers/worker-registry.js';
export type { WorkerState, WorkerStats } from '../workers/worker-registry.js';
import type { MoneyStats } from './money-stats.js';

/**
 * The most rows any bounded query of the snapshot reads. A figure taken from a scan that reached
 * it is a lower bound, and the snapshot says so (`capped: true`; shown as `≥ 10000`).
 */
export const STATS_SCAN_CAP = DEFAULTS.stats.scanCap;

/** A count that may have been cut off at {@link STATS_SCAN_CAP}. */
export interface CappedCount {
  count: number;
  /** True when the query stopped at the cap: the real figure is at least `count`. */
  capped: boolean;
}

/** bee-queue's own counts for one queue (scale-out only), next to what the database says. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
}

/** The work of one pipeline step (one outbox topic). */
export interface TopicStats {
  topic: string;
  /** Outbox rows not yet done or dead (exact, from the counters). */
  pending: number;
  /** Pending, due now and not leased by a worker. */
  waiting: number;
  /** Pending and due later: a retry in backoff, or scheduled. */
  delayed: number;
  /** Pending and leased: a worker holds it now. */
  active: number;
  /** Dead letters of this topic (exact). */
  dead: number;
  /**
   * True when waiting, delayed and active were split from pending by a scan that reached
   * {@link STATS_SCAN_CAP}: delayed and active are then lower bounds and waiting an upper bound.
   */
  capped: boolean;
  /** How long the oldest waiting message has been due (queue latency); null when none waits. */
  oldestWaitingMs: number | null;
  /** Step runs that succeeded, cumulative. */
  succeeded: number;
  /** Step runs that failed (retried or dead-lettered), cumulative. */
  failed: number;
  /** bee-queue's counts for this topic's queue; null without Redis or when Redis did not answer. */
  redis: QueueCounts | null;
  /** Set while an operator has the step paused (`buildflow pipeline pause`). */
  paused: { since: string; reason: string | null } | null;
}

/**
 * Cumulative figures: a client takes rates from the difference between two snapshots. Placed,
 * reserved, paid and confirmed are the funnel: orders that ever reached that stage, whatever
 * became of them later (a declined payment counts as reserved, not paid).
 */
export interface StatsCounters {
  ordersPlaced: number;
  ordersReserved: number;
  ordersPaid: number;
  ordersConfirmed: number;
  ordersCancelled: number;
}

/** Orders per second over the last 1, 10 and 60 s, as seen by the answering process. */
export interface StatsRates {
  placed: RateWindows;
  confirmed: RateWindows;
  cancelled: RateWindows;
}

/** Per second; null until the process has samples that far back. */
export interface RateWindows {
  '1s': number | null;
  '10s': number | null;
  '60s': number | null;
}

/** Placed → confirmed over the recent window, from the orders confirmed in it. */
export interface LatencyStats {
  windowMs: number;
  samples: number;
  /** True when `samples` is the most the snapshot reads (the newest that many of the window), not every order confirmed in it. */
  samplesCapped: boolean;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** The last result of the background stock-vs-ledger check (doctor's `stock-reconciliation`). */
export interface StockReconciliation {
  /** `pending`: not run yet in this process; `error`: it could not run (see detail). */
  status: 'ok' | 'fail' | 'pending' | 'error';
  detail: string;
  /** Products whose on_hand or reserved disagree with the ledger. */
  drifting: number;
  checkedAt: string | null;
  ageMs: number | null;
}

export interface StockStats {
  /** The low-stock mark: available (on hand − reserved) at or below it counts as low. */
  lowStockMark: number;
  /** Products with nothing available, and at or below the mark (out of stock included), as of the snapshot; null when not read. */
  outOfStock: CappedCount | null;
  lowStock: CappedCount | null;
  reconciliation: StockReconciliation;
}

export interface StuckOrders {
  /** Orders in pending/reserved/paid unchanged for longer than `stuckAfterMs`. */
  count: CappedCount;
  byStatus: Partial<Record<OrderStatus, number>>;
  oldestAgeMs: number | null;
  stuckAfterMs: number;
}

export interface RecentOrder {
  id: string;
  reference: string;
  status: OrderStatus;
  totalCents: number;
  createdAt: string;
}

/** A dead letter as `dead-letters list` shows it. */
export type RecentDeadLetter = DeadLetterView;

export interface DeploymentStats {
  /** The backend cell, as the tests name it: `sqlite`, `postgres` or `postgres+redis`. */
  cell: string;
  storage: 'sqlite' | 'postgres';
  transport: 'local' | 'redis';
  version: string;
  /** The process that answered. */
  host: string;
  pid: number;
  uptimeMs: number;
}

/** A deployment setting checked in the background, as doctor checks it (Redis persistence and eviction). */
export interface SettingCheck {
  name: string;
  /** `warn` also for a failure the deployment accepts (BUILDFLOW_ACCEPT). */
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  /** True when the check failed and BUILDFLOW_ACCEPT lists it. */
  accepted: boolean;
}

/** Doctor's Redis setting checks, run in the background by the answering process. */
export interface SettingChecks {
  /** BUILDFLOW_ACCEPT of the answering process. */
  accepted: string[];
  checks: SettingCheck[];
  checkedAt: string | null;
}

/** Everything `GET /v1/admin/stats` and `buildflow dashboard` show, taken in one call. */
export interface StatsSnapshot {
  generatedAt: string;
  /** How long the snapshot took to compute. */
  tookMs: number;
  deployment: DeploymentStats;
  topics: TopicStats[];
  orders: {
    byStatus: Record<OrderStatus, number>;
    cancelledByReason: Record<CancelReason, number>;
    stuck: StuckOrders;
    recent: RecentOrder[];
  };
  counters: StatsCounters;
  /** Money moved through the payment provider, in cents, cumulative. */
  money: MoneyStats;
  /** Computed by the answering process from the snapshots it took; null from a one-shot collectStats. */
  rates: StatsRates | null;
  /** Scale-out: the bee-queue queue's jobs (each a batch of outbox ids); null without Redis or when Redis did not answer. */
  queue: QueueCounts | null;
  latency: LatencyStats;
  workers: WorkerStats[];
  /** Work due now that no live worker takes (doctor's `workers` rule); empty when all is attended. */
  unattended: UnattendedWork[];
  /** Redis settings as doctor judges them; empty checks without Redis or before the first check. */
  settings: SettingChecks;
  stock: StockStats;
  deadLetters: RecentDeadLetter[];
}
