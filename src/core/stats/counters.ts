import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';

/**
 * Every running total the triggers of migrations 0006 and 0011 keep, summed over its slots. The table holds
 * a few dozen names times the Postgres backends alive (or not yet folded): a small read.
 */
export async function readCounters(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('stats_counters')
    .select(['name', sql<number>`sum(value)`.as('value')])
    .groupBy('name')
    .execute();
  return new Map(rows.map((r) => [r.name, Number(r.value)]));
}

/**
 * Postgres: adds the slots of backends that no longer exist into slot 0, in one statement, so the
 * table does not grow with every connection ever opened. A live backend's slot is left alone (its
 * transaction may be updating it). Safe to run from several processes at once. No-op on SQLite.
 * Returns how many slot rows were folded.
 */
export async function foldGoneSlots(db: Kysely<Database>): Promise<number> {
  if (!isPostgres(db)) return 0;
  const { rows } = await sql<{ n: number }>`
    with gone as (
      delete from stats_counters
      where slot <> 0 and slot not in (select pid from pg_stat_activity where pid is not null)
      returning name, value
    ), folded as (
      insert into stats_counters (name, slot, value)
      select name, 0, sum(value) from gone group by name
      on conflict (name, slot) do update set value = stats_counters.value + excluded.value
      returning 1
    )
    select (select count(*) from gone) as n`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
