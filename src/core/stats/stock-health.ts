import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { errorLine } from '../doctor/check.js';
import { checkStockReconciliation } from '../doctor/pipeline-checks.js';
import { STATS_SCAN_CAP, type CappedCount, type StockStats } from './snapshot-types.js';
import { DEFAULTS } from '../defaults.js';

export interface StockHealthOptions {
  /** Available stock (on hand − reserved) at or below this counts as low. */
  lowStockMark: number;
  /** The check runs at most this often. */
  intervalMs: number;
  timeoutMs?: number;
}

/**
 * The stock-vs-ledger half of the snapshot's stock health: doctor's stock-vs-ledger
 * check (`checkStockReconciliation`, the same code `buildflow doctor` runs). The ledger check
 * reads every ledger row, so it never runs in a snapshot's path: `current()` returns the last
 * result at once and, when that is older than the interval, starts the next check in the
 * background. Nobody polling means no check runs.
 */
export class StockHealthMonitor {
  private last: { at: number; status: 'ok' | 'fail' | 'error'; detail: string; drifting: number } | undefined;
  private running: Promise<void> | undefined;
  private startedAt = -Infinity;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: StockHealthOptions,
  ) {}

  /** The last result (and its age), without the current counts; kicks off a new check when due. */
  current(now = Date.now()): StockStats {
    if (!this.running && now - this.startedAt >= this.options.intervalMs) {
      this.startedAt = now;
      this.running = this.check().finally(() => (this.running = undefined));
    }
    const last = this.last;
    return {
      lowStockMark: this.options.lowStockMark,
      outOfStock: null,
      lowStock: null,
      reconciliation: last
        ? { status: last.status, detail: last.detail, drifting: last.drifting, checkedAt: new Date(last.at).toISOString(), ageMs: Math.max(0, now - last.at) }
        : { status: 'pending', detail: 'the first stock check is running', drifting: 0, checkedAt: null, ageMs: null },
    };
  }

  /** Resolves when the check in progress (if any) has finished. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async check(): Promise<void> {
    const at = Date.now();
    try {
      const reconciliation = await checkStockReconciliation(this.db, { timeoutMs: this.options.timeoutMs ?? DEFAULTS.stats.stockCheckTimeoutMs });
      const drifting = Number((reconciliation.data as { drifting?: number } | undefined)?.drifting ?? 0);
      this.last = { at, status: reconciliation.status === 'ok' ? 'ok' : 'fail', detail: reconciliation.detail, drifting };
    } catch (err) {
      this.last = {
        at,
        status: 'error',
        detail: `the stock check failed: ${errorLine(err)}`,
        drifting: 0,
      };
    }
  }
}

/**
 * Products with at most `mark` units available (on hand − reserved), counted up to
 * {@link STATS_SCAN_CAP}: read with every snapshot, so the stock line is as current as `product get`.
 */
export async function countAvailableAtMost(db: Kysely<Database>, mark: number): Promise<CappedCount> {
  const { rows } = await sql<{ n: number }>`
    select count(*) as n from (select 1 from products where on_hand - reserved <= ${mark} limit ${STATS_SCAN_CAP}) d`.execute(db);
  const n = Number(rows[0]?.n ?? 0);
  return { count: n, capped: n >= STATS_SCAN_CAP };
}
