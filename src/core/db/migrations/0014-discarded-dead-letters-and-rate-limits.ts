import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';

const WIDE = `'pending', 'done', 'dead', 'discarded'`;
const NARROW = `'pending', 'done', 'dead'`;

/**
 * - An outbox row may be `discarded`: a dead letter an operator gave up on keeps its row (the
 *   order's story) but leaves the dead letters. The status triggers count it already: a row leaving
 *   `dead` decrements `outbox:dead:<topic>` and counts under `outbox:discarded:<topic>`.
 * - `rate_limits`: a token bucket per limited step, shared by every worker of the deployment and
 *   taken with one conditional UPDATE per batch (milli-tokens, so both dialects do integer sums).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await setStatusCheck(db, NARROW, WIDE);
  await db.schema
    .createTable('rate_limits')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('milli_tokens', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_granted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
  await sql`delete from outbox where status = 'discarded'`.execute(db);
  await setStatusCheck(db, WIDE, NARROW);
}

async function setStatusCheck(db: Kysely<any>, from: string, to: string): Promise<void> {
  if (!isSqlite(db)) {
    await sql`alter table outbox drop constraint outbox_status_check`.execute(db);
    await sql.raw(`alter table outbox add constraint outbox_status_check check (status in (${to}))`).execute(db);
    return;
  }
  // SQLite cannot alter a CHECK: the table is rebuilt under its own name (sqlite.org/lang_altertable.html,
  // "other kinds of table schema changes"), its ids, indexes, triggers and id sequence kept.
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'outbox'`.execute(db);
  const create = table.rows[0]!.sql;
  if (!create.includes(from)) throw new Error(`outbox's status check is not (${from}): ${create}`);
  const extras = await sql<{ sql: string }>`select sql from sqlite_master where tbl_name = 'outbox' and type in ('index', 'trigger') and sql is not null`.execute(db);
  const seq = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'outbox'`.execute(db);
  await sql.raw(create.replace(/^create table "?outbox"?/i, 'create table "outbox_new"').replace(from, to)).execute(db);
  await sql`insert into outbox_new select * from outbox`.execute(db);
  await sql`drop table outbox`.execute(db);
  await sql`alter table outbox_new rename to outbox`.execute(db);
  for (const { sql: statement } of extras.rows) await sql.raw(statement).execute(db);
  if (seq.rows[0]) await sql`update sqlite_sequence set seq = max(seq, ${seq.rows[0].seq}) where name = 'outbox'`.execute(db);
}
