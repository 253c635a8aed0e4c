import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';

/**
 * What the stats snapshot reads instead of counting big tables:
 *
 * - `stats_counters`: running totals kept by triggers in the transaction of the change they count,
 *   so they cannot drift whichever code path (the intake writer thread's prepared SQL, a step, the
 *   sweeper, a re-drive) wrote the row. Names: `orders:<status>` (orders now in that status),
 *   `cancelled:<reason>`, `outbox:<pending|dead>:<topic>` (rows now in that state),
 *   `outbox:done:<topic>` (step runs that succeeded, cumulative), `failed:<topic>` (step runs that
 *   failed: a lease given back with the row still pending, i.e. a retry, or a dead letter).
 *   A figure is the sum of its rows over `slot`. SQLite has one writer at a time, so one slot (0).
 *   On Postgres each backend writes only its own slot (`pg_backend_pid()`), so no two transactions
 *   ever wait on the same counter row, and no lock order between counters can deadlock; the
 *   snapshot folds the slots of backends that have gone into slot 0.
 * - `workers`: the registry of worker processes and their heartbeats.
 * - `outbox_dead_idx`: dead letters listed newest first without reading the done rows.
 *
 * The counters start from the rows already there (a one-time count, here and nowhere else).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stats_counters')
    .addColumn('name', 'varchar(80)', (c) => c.notNull())
    .addColumn('slot', 'bigint', (c) => c.notNull())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_counters_pk', ['name', 'slot'])
    .execute();

  await db.schema
    .createTable('workers')
    .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
    .addColumn('host', 'varchar(200)', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('roles', 'varchar(100)', (c) => c.notNull())
    .addColumn('transport', 'varchar(16)', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('heartbeat_ms', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('handled', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createIndex('outbox_dead_idx')
    .on('outbox')
    .column('id')
    .where(sql.ref('status'), '=', 'dead')
    .execute();

  await sql`
    insert into stats_counters (name, slot, value)
    select 'orders:' || status, 0, count(*) from orders group by status
    union all
    select 'cancelled:' || cancel_reason, 0, count(*) from orders where status = 'cancelled' group by cancel_reason
    union all
    select 'outbox:' || status || ':' || topic, 0, count(*) from outbox group by status, topic
  `.execute(db);

  if (isSqlite(db)) await sqliteTriggers(db);
  else await postgresTriggers(db);
}

// Row triggers, each with a WHEN clause so intake's inserts run only the one that applies.
async function sqliteTriggers(db: Kysely<any>): Promise<void> {
  const bump = (name: string, delta: number) =>
    `insert into stats_counters (name, slot, value) values (${name}, 0, ${delta})
       on conflict (name, slot) do update set value = value + ${delta};`;
  const triggers = [
    `create trigger order_history_stats_to after insert on order_history
       begin ${bump(`'orders:' || new.to_status`, 1)} end`,
    `create trigger order_history_stats_from after insert on order_history when new.from_status is not null
       begin ${bump(`'orders:' || new.from_status`, -1)} end`,
    `create trigger order_history_stats_cancelled after insert on order_history when new.to_status = 'cancelled'
       begin ${bump(`'cancelled:' || coalesce(new.reason, 'unknown')`, 1)} end`,
    `create trigger outbox_stats_insert after insert on outbox
       begin ${bump(`'outbox:' || new.status || ':' || new.topic`, 1)} end`,
    `create trigger outbox_stats_status_to after update of status on outbox when old.status <> new.status
       begin ${bump(`'outbox:' || new.status || ':' || new.topic`, 1)} end`,
    // done is cumulative (step runs that succeeded): leaving it is not counted down.
    `create trigger outbox_stats_status_from after update of status on outbox when old.status <> new.status and old.status <> 'done'
       begin ${bump(`'outbox:' || old.status || ':' || old.topic`, -1)} end`,
    `create trigger outbox_stats_dead after update of status on outbox when old.status = 'pending' and new.status = 'dead'
       begin ${bump(`'failed:' || new.topic`, 1)} end`,
    // A retry gives the lease back (locked_by cleared) and leaves the row pending.
    `create trigger outbox_stats_retry after update of locked_by on outbox
       when old.status = 'pending' and new.status = 'pending' and old.locked_by is not null and new.locked_by is null
       begin ${bump(`'failed:' || new.topic`, 1)} end`,
  ];
  for (const t of triggers) await sql.raw(t).execute(db);
}

/**
 * A Postgres trigger function adding `deltas` (rows of name, delta over the transition tables) to
 * the backend's own counter slots in one upsert. Exported for 0011, which redefines the
 * order_history one (`or replace`) and restores this migration's on the way down, and for 0012.
 */
export const statsFunction = (name: string, deltas: string, replace = false) => `
    create ${replace ? 'or replace ' : ''}function ${name}() returns trigger language plpgsql as $$
    begin
      insert into stats_counters (name, slot, value)
      select d.name, pg_backend_pid(), sum(d.delta) from (${deltas}) d
      group by d.name having sum(d.delta) <> 0
      on conflict (name, slot) do update set value = stats_counters.value + excluded.value;
      return null;
    end $$`;

/** The order_history deltas of this migration: orders by status and cancellations by reason. */
export const ORDER_HISTORY_DELTAS = `select 'orders:' || to_status as name, 1 as delta from new_rows
       union all select 'orders:' || from_status, -1 from new_rows where from_status is not null
       union all select 'cancelled:' || coalesce(reason, 'unknown'), 1 from new_rows where to_status = 'cancelled'`;

/** The outbox update deltas of this migration (0012 replaces them with a row trigger and restores them on the way down). */
export const OUTBOX_UPDATE_DELTAS = `select 'outbox:' || n.status || ':' || n.topic as name, 1 as delta
         from old_rows o join new_rows n on n.id = o.id where o.status <> n.status
       union all select 'outbox:' || o.status || ':' || o.topic, -1
         from old_rows o join new_rows n on n.id = o.id where o.status <> n.status and o.status <> 'done'
       union all select 'failed:' || n.topic, 1
         from old_rows o join new_rows n on n.id = o.id
         where o.status = 'pending' and (n.status = 'dead' or (n.status = 'pending' and o.locked_by is not null and n.locked_by is null))`;

// Statement triggers with transition tables: one upsert per statement (a batch of 256 orders
// costs one), grouped by counter name, into the backend's own slot.
async function postgresTriggers(db: Kysely<any>): Promise<void> {
  const fn = (name: string, deltas: string) => statsFunction(name, deltas);
  await sql.raw(fn('buildflow_stats_order_history', ORDER_HISTORY_DELTAS)).execute(db);
  await sql.raw(
    fn('buildflow_stats_outbox_insert', `select 'outbox:' || status || ':' || topic as name, 1 as delta from new_rows`),
  ).execute(db);
  await sql.raw(
    fn('buildflow_stats_outbox_update', OUTBOX_UPDATE_DELTAS),
  ).execute(db);
  await sql`create trigger order_history_stats after insert on order_history referencing new table as new_rows
    for each statement execute function buildflow_stats_order_history()`.execute(db);
  await sql`create trigger outbox_stats_insert after insert on outbox referencing new table as new_rows
    for each statement execute function buildflow_stats_outbox_insert()`.execute(db);
  await sql`create trigger outbox_stats_update after update on outbox referencing old table as old_rows new table as new_rows
    for each statement execute function buildflow_stats_outbox_update()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    for (const t of [
      'order_history_stats_to',
      'order_history_stats_from',
      'order_history_stats_cancelled',
      'outbox_stats_insert',
      'outbox_stats_status_to',
      'outbox_stats_status_from',
      'outbox_stats_dead',
      'outbox_stats_retry',
    ]) {
      await sql.raw(`drop trigger if exists ${t}`).execute(db);
    }
  } else {
    await sql`drop trigger if exists order_history_stats on order_history`.execute(db);
    await sql`drop trigger if exists outbox_stats_insert on outbox`.execute(db);
    await sql`drop trigger if exists outbox_stats_update on outbox`.execute(db);
    for (const f of ['buildflow_stats_order_history', 'buildflow_stats_outbox_insert', 'buildflow_stats_outbox_update']) {
      await sql.raw(`drop function if exists ${f}()`).execute(db);
    }
  }
  await db.schema.dropIndex('outbox_dead_idx').execute();
  await db.schema.dropTable('workers').execute();
  await db.schema.dropTable('stats_counters').execute();
}
