import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { DEFAULTS } from '../defaults.js';

// Due pending rows looked at, oldest first, along the partial index of pending rows (outbox_due_idx).
const SCAN_CAP = DEFAULTS.stats.scanCap;

/**
 * Scale-out: how long the oldest due outbox row has waited for a relay to publish it, in ms; 0
 * when every due row is published. Reads at most 10,000 due rows along the pending index, so
 * behind a larger backlog the figure is a lower bound.
 */
export async function relayLagMs(db: Kysely<Database>, now: number): Promise<number> {
  const { rows } = await sql<{ oldest: number | null }>`
    select min(case when published_at is null then available_at end) as oldest
    from (select available_at, published_at from outbox
          where status = 'pending' and available_at <= ${now}
          order by available_at, id limit ${SCAN_CAP}) d`.execute(db);
  const oldest = rows[0]?.oldest;
  return oldest === null || oldest === undefined ? 0 : Math.max(0, now - Number(oldest));
}
