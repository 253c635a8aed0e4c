import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';
import { ORDER_HISTORY_DELTAS, statsFunction } from './0006-stats-counters-and-workers.js';

/**
 * The funnel as cumulative counters: `reached:<reserved|paid|confirmed>` counts the orders that
 * ever entered that status, kept by the order_history triggers of 0006's kind. `orders:<status>`
 * cannot give it: an order reserved and then cancelled (payment declined) has left `reserved`,
 * but it was reserved. Transitions move one step at a time and never back, so one history row
 * per order and stage reaches each of these statuses at most once.
 *
 * Intake writes only `pending` history rows and must not pay for this. SQLite: a row trigger
 * whose WHEN clause skips them, so their insert runs nothing new. Postgres: no new trigger; the
 * existing statement trigger's function gains the deltas, so an intake batch still costs one
 * trigger call and one upsert.
 *
 * Back-filled from the history already there, once, here.
 */
const REACHED = `('reserved', 'paid', 'confirmed')`;

const REACHED_DELTAS = `${ORDER_HISTORY_DELTAS}
       union all select 'reached:' || to_status, 1 from new_rows where to_status in ${REACHED}`;

const backFill = sql.raw(`
  insert into stats_counters (name, slot, value)
  select 'reached:' || to_status, 0, count(*) from order_history where to_status in ${REACHED} group by to_status`);

export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    // One transaction: a history row written by another process between the back-fill and the
    // trigger would otherwise be counted twice or not at all.
    await db.transaction().execute(async (trx) => {
      await sql`create trigger order_history_stats_reached after insert on order_history
        when new.to_status in ('reserved', 'paid', 'confirmed')
        begin
          insert into stats_counters (name, slot, value) values ('reached:' || new.to_status, 0, 1)
            on conflict (name, slot) do update set value = value + 1;
        end`.execute(trx);
      await backFill.execute(trx);
    });
    return;
  }
  // The migration runs in one transaction on Postgres. The lock waits for transactions that
  // inserted history under the old function and holds new ones until this commits, so each
  // history row is counted by the back-fill or by the new function, exactly once.
  await sql`lock table order_history in share mode`.execute(db);
  await sql.raw(statsFunction('buildflow_stats_order_history', REACHED_DELTAS, true)).execute(db);
  await backFill.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) await sql`drop trigger if exists order_history_stats_reached`.execute(db);
  else await sql.raw(statsFunction('buildflow_stats_order_history', ORDER_HISTORY_DELTAS, true)).execute(db);
  await sql`delete from stats_counters where name like 'reached:%'`.execute(db);
}
