import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Buildflow } from '../buildflow.js';
import { isPostgres } from '../db/postgres.js';
import { withTimeout } from '../timeout.js';
import { OUTBOX_QUEUE, OutboxQueue } from '../transport/outbox-queue.js';
import { collectStats, type StatsSource } from './collect-stats.js';
import { foldGoneSlots } from './counters.js';
import { RateTracker } from './rates.js';
import type { QueueCounts, StatsSnapshot } from './snapshot-types.js';
import { StockHealthMonitor } from './stock-health.js';
import { DEFAULTS } from '../defaults.js';
import { SettingChecksMonitor } from './setting-checks.js';

export interface StatsServiceOptions {
  /** Snapshots are computed at most this often; callers in between share the last one. Default 1000. */
  minIntervalMs?: number;
  /** Package version shown in the snapshot; default read from package.json. */
  version?: string;
}

const FOLD_EVERY_MS = DEFAULTS.stats.foldEveryMs;

/**
 * The snapshot as a served resource: computed at most once per `minIntervalMs` however many
 * callers poll (callers arriving while one is computed wait for it), with rates from the
 * snapshots it took, the stock check in the background, and bee-queue's counts when Redis is
 * configured.
 */
export class StatsService {
  private last: { at: number; snapshot: StatsSnapshot } | undefined;
  private inflight: Promise<StatsSnapshot> | undefined;
  private readonly rates = new RateTracker();
  private readonly stock: StockHealthMonitor;
  private readonly settings: SettingChecksMonitor;
  private queues: OutboxQueue | undefined;
  private lastFold = 0;
  private readonly minIntervalMs: number;
  private readonly source: StatsSource;

  constructor(
    private readonly app: Buildflow,
    options: StatsServiceOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? DEFAULTS.stats.minIntervalMs;
    const config = app.config;
    this.stock = new StockHealthMonitor(app.db, { lowStockMark: config.stats.lowStockMark, intervalMs: config.stats.stockCheckIntervalMs });
    this.settings = new SettingChecksMonitor(config, config.stats.stockCheckIntervalMs);
    this.source = {
      db: app.db,
      storage: isPostgres(app.db) ? 'postgres' : 'sqlite',
      transport: config.redis.url ? 'redis' : 'local',
      version: options.version ?? packageVersion(),
      stuckAfterMs: config.stuckAfterMs,
      stock: () => this.stock.current(),
      lowStockMark: config.stats.lowStockMark,
      settings: () => this.settings.current(),
      ...(config.redis.url ? { queueCounts: () => this.queueCounts() } : {}),
    };
    // The first check starts now, so the first snapshot a client asks for has a result to show.
    this.stock.current();
    this.settings.current();
  }

  /** The current snapshot: the last one if younger than the interval, else a new one. */
  async snapshot(now = Date.now()): Promise<StatsSnapshot> {
    if (this.last && now - this.last.at < this.minIntervalMs) return this.last.snapshot;
    if (this.inflight) return this.inflight;
    this.inflight = this.compute(now).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Waits for background work (the stock check) to finish; for tests and shutdown. */
  async settled(): Promise<void> {
    await Promise.all([this.stock.settled(), this.settings.settled()]);
  }

  async close(): Promise<void> {
    await this.inflight?.catch(() => {});
    await this.settled();
    await this.queues?.close(1000);
    this.queues = undefined;
  }

  private async compute(now: number): Promise<StatsSnapshot> {
    if (now - this.lastFold >= FOLD_EVERY_MS) {
      this.lastFold = now;
      // Bookkeeping only (sums are right without it): a failure waits for the next round.
      void foldGoneSlots(this.app.db).catch(() => {});
    }
    const snapshot = await collectStats(this.source, now);
    snapshot.rates = this.rates.add(now, snapshot.counters);
    this.last = { at: now, snapshot };
    return snapshot;
  }

  private async queueCounts(): Promise<Map<string, QueueCounts>> {
    const { url, prefix } = this.app.config.redis;
    this.queues ??= new OutboxQueue({ url: url!, prefix, worker: false, onError: () => {} });
    const h = await withTimeout(this.queues.queue.checkHealth(), DEFAULTS.stats.queueHealthTimeoutMs, 'Redis queue');
    // Jobs, not messages: each job names a batch of outbox ids.
    return new Map([[OUTBOX_QUEUE, { waiting: h.waiting, active: h.active, delayed: h.delayed }]]);
  }
}

let version: string | undefined;

/** The version in the package's package.json, found by walking up from this file (src/ or dist/src/). */
function packageVersion(): string {
  if (version) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'buildflow') return (version = pkg.version ?? 'unknown');
    }
    const parent = dirname(dir);
    if (parent === dir) return (version = 'unknown');
    dir = parent;
  }
}
