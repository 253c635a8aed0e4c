import { sql, type Kysely } from 'kysely';
import { autoIdColumn, isSqlite } from './dialect-types.js';

/**
 * Returns: a customer (or the admin) asks to send back lines of a shipped or delivered order
 * (`returns` `requested`, one `return_lines` row per sku asked); the admin receives it (`received`),
 * noting per line what arrived and whether it goes back on the shelf, and the received lines' price
 * is refunded through the payment ledger (its rows carry `return_id`).
 * Notifications and their emails were once per order and kind; refunds and returns happen several
 * times per order, so both gain `event_key` (empty for status events, the refund's or return's id
 * otherwise) and are once per order, kind and key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('returns')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('requested', 'received')`))
    .addColumn('reason', 'varchar(500)', (c) => c.notNull())
    .addColumn('requested_by', 'varchar(16)', (c) => c.notNull().check(sql`requested_by in ('customer', 'admin')`))
    // The client's Idempotency-Key, when it sent one: a retry answers this return, never a second.
    .addColumn('request_key', 'varchar(255)')
    // What receiving it refunded: the received lines' price (null until received).
    .addColumn('refund_cents', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint')
    .execute();
  await db.schema.createIndex('returns_order_idx').on('returns').columns(['order_id', 'created_at']).execute();
  await db.schema.createIndex('returns_request_key_idx').on('returns').columns(['order_id', 'request_key']).unique().execute();

  await autoIdColumn(db, db.schema.createTable('return_lines'))
    .addColumn('return_id', 'varchar(36)', (c) => c.notNull().references('returns.id'))
    .addColumn('sku', 'varchar(64)', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn('unit_price_cents', 'bigint', (c) => c.notNull().check(sql`unit_price_cents >= 0`))
    .addColumn('received_quantity', 'integer', (c) => c.check(sql`received_quantity >= 0 and received_quantity <= quantity`))
    .addColumn('restock', 'integer', (c) => c.check(sql`restock in (0, 1)`))
    .addUniqueConstraint('return_lines_once_per_sku', ['return_id', 'sku'])
    .execute();

  for (const table of ['notifications', 'email_messages'] as const) await keyedOncePerKind(db, table, 'up');
}

/** Back to one notification per order and kind: the refund and return events (keyed) are dropped with the returns. */
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['email_messages', 'notifications'] as const) await keyedOncePerKind(db, table, 'down');
  await db.schema.dropTable('return_lines').execute();
  await db.schema.dropTable('returns').execute();
}

/**
 * Up: adds `event_key` and widens `<table>_once_per_kind` from (order_id, kind) to (order_id,
 * kind, event_key). Down: deletes the keyed rows, then the reverse.
 */
async function keyedOncePerKind(db: Kysely<any>, table: 'notifications' | 'email_messages', direction: 'up' | 'down'): Promise<void> {
  const constraint = `${table}_once_per_kind`;
  const narrow = `constraint "${constraint}" unique ("order_id", "kind")`;
  const wide = `"event_key" varchar(200) not null default '', constraint "${constraint}" unique ("order_id", "kind", "event_key")`;
  if (direction === 'down') await sql.raw(`delete from ${table} where event_key <> ''`).execute(db);
  if (!isSqlite(db)) {
    if (direction === 'up') await sql.raw(`alter table ${table} add column event_key varchar(200) not null default ''`).execute(db);
    await sql.raw(`alter table ${table} drop constraint ${constraint}`).execute(db);
    await sql.raw(`alter table ${table} add constraint ${constraint} unique (${direction === 'up' ? 'order_id, kind, event_key' : 'order_id, kind'})`).execute(db);
    if (direction === 'down') await sql.raw(`alter table ${table} drop column event_key`).execute(db);
    return;
  }
  // SQLite cannot drop a constraint: the table is rebuilt under its own name (as in 0014), its
  // ids, indexes and id sequence kept.
  const [from, to] = direction === 'up' ? [narrow, wide] : [wide, narrow];
  const created = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const create = created.rows[0]!.sql;
  if (!create.includes(from)) throw new Error(`${table} has no ${from}: ${create}`);
  const columns = (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows
    .filter((r) => r.name !== 'event_key')
    .map((r) => `"${r.name}"`)
    .join(', ');
  const extras = await sql<{ sql: string }>`select sql from sqlite_master where tbl_name = ${table} and type in ('index', 'trigger') and sql is not null`.execute(db);
  const seq = await sql<{ seq: number }>`select seq from sqlite_sequence where name = ${table}`.execute(db);
  const fresh = `${table}_0016`;
  await sql.raw(create.replace(new RegExp(`^create table "?${table}"?`, 'i'), `create table "${fresh}"`).replace(from, to)).execute(db);
  await sql.raw(`insert into ${fresh} (${columns}) select ${columns} from ${table}`).execute(db);
  await sql.raw(`drop table ${table}`).execute(db);
  await sql.raw(`alter table ${fresh} rename to ${table}`).execute(db);
  for (const { sql: statement } of extras.rows) await sql.raw(statement).execute(db);
  if (seq.rows[0]) await sql`update sqlite_sequence set seq = max(seq, ${seq.rows[0].seq}) where name = ${table}`.execute(db);
}
