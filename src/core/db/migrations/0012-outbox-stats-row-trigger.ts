import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';
import { OUTBOX_UPDATE_DELTAS, statsFunction } from './0006-stats-counters-and-workers.js';

/**
 * Postgres: the outbox's update counters move from 0006's statement trigger to a row trigger
 * with a WHEN clause. A statement trigger with transition tables makes Postgres keep the old and
 * new image of every updated row, and most outbox updates change no status (the relay's publish,
 * the workers' claim): in bench/pipeline that capture cost ≈ 20 % of the Postgres CPU of an
 * order (2.88 → 2.20 and 2.51 → 1.96 ms in paired runs on an idle machine, 2026-12-06), about
 * what dropping the counters altogether saved. A row trigger's WHEN is checked without calling
 * the function, so those updates pay nothing; a status change pays one upsert per changed row
 * into the backend's own slot, as before. Transition tables cannot go with a column list
 * (`update of status`), so there is no cheaper statement trigger. The counts are the same rule
 * as 0006's (see its OUTBOX_UPDATE_DELTAS). SQLite's triggers are row triggers with WHEN already.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) return;
  // One transaction (Postgres migrations run in one): an update counts under the old trigger or
  // the new one, never both or neither.
  await sql`drop trigger outbox_stats_update on outbox`.execute(db);
  await sql`drop function buildflow_stats_outbox_update()`.execute(db);
  await sql`
    create function buildflow_stats_outbox_row() returns trigger language plpgsql as $$
    begin
      if old.status <> new.status then
        insert into stats_counters (name, slot, value) values ('outbox:' || new.status || ':' || new.topic, pg_backend_pid(), 1)
          on conflict (name, slot) do update set value = stats_counters.value + 1;
        -- done is cumulative (step runs that succeeded): leaving it is not counted down.
        if old.status <> 'done' then
          insert into stats_counters (name, slot, value) values ('outbox:' || old.status || ':' || old.topic, pg_backend_pid(), -1)
            on conflict (name, slot) do update set value = stats_counters.value - 1;
        end if;
      end if;
      -- A failed run: a dead letter, or a lease given back (locked_by cleared) with the row still pending.
      if old.status = 'pending' and (new.status = 'dead' or (new.status = 'pending' and old.locked_by is not null and new.locked_by is null)) then
        insert into stats_counters (name, slot, value) values ('failed:' || new.topic, pg_backend_pid(), 1)
          on conflict (name, slot) do update set value = stats_counters.value + 1;
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger outbox_stats_row after update on outbox for each row
    when (old.status is distinct from new.status
          or (old.status = 'pending' and new.status = 'pending' and old.locked_by is not null and new.locked_by is null))
    execute function buildflow_stats_outbox_row()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) return;
  await sql`drop trigger outbox_stats_row on outbox`.execute(db);
  await sql`drop function buildflow_stats_outbox_row()`.execute(db);
  await sql.raw(statsFunction('buildflow_stats_outbox_update', OUTBOX_UPDATE_DELTAS)).execute(db);
  await sql`create trigger outbox_stats_update after update on outbox referencing old table as old_rows new table as new_rows
    for each statement execute function buildflow_stats_outbox_update()`.execute(db);
}
