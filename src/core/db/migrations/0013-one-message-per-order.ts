import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';
import { statsFunction } from './0006-stats-counters-and-workers.js';

/**
 * One message carries an order (DESIGN.md, "The pipeline"): a done message is deleted instead of
 * kept, and an order's message changes topic when a claim finds its order at another step.
 *
 * - The done rows already there are deleted, before the delete counters exist: `outbox:done:<topic>`
 *   stays the cumulative count it was.
 * - Counters follow the new writes: a deleted pending row counts as done (and leaves pending); a
 *   topic change moves the row's count from one topic to the other (a status change in the same
 *   statement is counted by the status triggers, which read old and new topic already).
 * - Postgres: the claim touches only unindexed columns, so with free room on the page its update is
 *   HOT (no index entries written); fillfactor 70 keeps that room on pages written from now on.
 * - Pending pipeline messages of one order beyond the first (a re-drive beside the original) are
 *   deleted: the first resumes the order at its status.
 * - `pipeline_pauses`: the steps an operator paused, one row each, read by every worker.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pipeline_pauses')
    .addColumn('step', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('reason', 'varchar(500)')
    .addColumn('paused_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`delete from outbox where status = 'done'`.execute(db);
  if (isSqlite(db)) {
    const bump = (name: string, delta: number) =>
      `insert into stats_counters (name, slot, value) values (${name}, 0, ${delta})
         on conflict (name, slot) do update set value = value + ${delta};`;
    await sql
      .raw(
        `create trigger outbox_stats_topic after update of topic on outbox when old.topic <> new.topic and old.status = new.status
         begin ${bump(`'outbox:' || old.status || ':' || old.topic`, -1)} ${bump(`'outbox:' || new.status || ':' || new.topic`, 1)} end`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger outbox_stats_delete after delete on outbox when old.status in ('pending', 'dead')
         begin ${bump(`'outbox:' || old.status || ':' || old.topic`, -1)} end`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger outbox_stats_delete_done after delete on outbox when old.status = 'pending'
         begin ${bump(`'outbox:done:' || old.topic`, 1)} end`,
      )
      .execute(db);
  } else {
    await sql`alter table outbox set (fillfactor = 70)`.execute(db);
    await sql.raw(outboxRowFunction(true)).execute(db);
    await sql`drop trigger outbox_stats_row on outbox`.execute(db);
    await sql`
      create trigger outbox_stats_row after update on outbox for each row
      when (old.status is distinct from new.status
            or old.topic is distinct from new.topic
            or (old.status = 'pending' and new.status = 'pending' and old.locked_by is not null and new.locked_by is null))
      execute function buildflow_stats_outbox_row()`.execute(db);
    await sql
      .raw(
        statsFunction(
          'buildflow_stats_outbox_delete',
          `select 'outbox:' || status || ':' || topic as name, -1 as delta from old_rows where status in ('pending', 'dead')
           union all select 'outbox:done:' || topic, 1 from old_rows where status = 'pending'`,
        ),
      )
      .execute(db);
    await sql`create trigger outbox_stats_delete after delete on outbox referencing old table as old_rows
      for each statement execute function buildflow_stats_outbox_delete()`.execute(db);
  }
  await sql`
    delete from outbox where status = 'pending' and topic in ('reserve', 'pay', 'confirm')
      and id > (select min(o2.id) from outbox o2 where o2.order_id = outbox.order_id and o2.status = 'pending' and o2.topic in ('reserve', 'pay', 'confirm'))`.execute(db);
}

/** 0012's row function, with (from this migration) a topic change moving the row's count. */
function outboxRowFunction(withTopic: boolean): string {
  const topicChange = withTopic
    ? `if old.status = new.status and old.topic <> new.topic then
        insert into stats_counters (name, slot, value) values ('outbox:' || new.status || ':' || new.topic, pg_backend_pid(), 1)
          on conflict (name, slot) do update set value = stats_counters.value + 1;
        insert into stats_counters (name, slot, value) values ('outbox:' || old.status || ':' || old.topic, pg_backend_pid(), -1)
          on conflict (name, slot) do update set value = stats_counters.value - 1;
      end if;`
    : '';
  return `
    create or replace function buildflow_stats_outbox_row() returns trigger language plpgsql as $$
    begin
      if old.status <> new.status then
        insert into stats_counters (name, slot, value) values ('outbox:' || new.status || ':' || new.topic, pg_backend_pid(), 1)
          on conflict (name, slot) do update set value = stats_counters.value + 1;
        if old.status <> 'done' then
          insert into stats_counters (name, slot, value) values ('outbox:' || old.status || ':' || old.topic, pg_backend_pid(), -1)
            on conflict (name, slot) do update set value = stats_counters.value - 1;
        end if;
      end if;
      ${topicChange}
      if old.status = 'pending' and (new.status = 'dead' or (new.status = 'pending' and old.locked_by is not null and new.locked_by is null)) then
        insert into stats_counters (name, slot, value) values ('failed:' || new.topic, pg_backend_pid(), 1)
          on conflict (name, slot) do update set value = stats_counters.value + 1;
      end if;
      return null;
    end $$`;
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pipeline_pauses').execute();
  if (isSqlite(db)) {
    for (const t of ['outbox_stats_topic', 'outbox_stats_delete', 'outbox_stats_delete_done']) await sql.raw(`drop trigger if exists ${t}`).execute(db);
    return;
  }
  await sql`drop trigger outbox_stats_delete on outbox`.execute(db);
  await sql`drop function buildflow_stats_outbox_delete()`.execute(db);
  await sql`drop trigger outbox_stats_row on outbox`.execute(db);
  await sql.raw(outboxRowFunction(false)).execute(db);
  await sql`
    create trigger outbox_stats_row after update on outbox for each row
    when (old.status is distinct from new.status
          or (old.status = 'pending' and new.status = 'pending' and old.locked_by is not null and new.locked_by is null))
    execute function buildflow_stats_outbox_row()`.execute(db);
  await sql`alter table outbox reset (fillfactor)`.execute(db);
}
