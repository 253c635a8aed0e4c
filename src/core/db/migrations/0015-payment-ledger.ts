import { sql, type Kysely } from 'kysely';
import { autoIdColumn, isSqlite } from './dialect-types.js';

/**
 * Money after payment (DESIGN.md, "Money"): the pay step authorizes and a later step captures, so
 * every movement of money is a row of `payment_ledger` (authorization, capture, void, refund) with
 * the idempotency key its provider call carries. `payments` stays the order's one-row summary that
 * the order view and the admin list read; it gains the statuses `authorized` and `voided`
 * (SQLite cannot alter a check constraint, so there the table is rebuilt).
 * The stock ledger gains two kinds: `restock` (a confirmed order cancelled before shipment puts its
 * sold lines back, once per line) and `return` (received returns, several per line, so the
 * once-per-order index leaves them out).
 * Existing `captured` payments were charged in one call: each gets an authorization and a capture
 * row for its amount (a `refunded` one a refund row too), so the sums of old orders add up.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await autoIdColumn(db, db.schema.createTable('payment_ledger'))
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull().check(sql`kind in ('authorization', 'capture', 'void', 'refund')`))
    .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`))
    .addColumn('provider_ref', 'varchar(200)')
    .addColumn('idempotency_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('reason', 'varchar(500)')
    .addColumn('return_id', 'varchar(36)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payment_ledger_order_idx').on('payment_ledger').columns(['order_id', 'id']).execute();

  const statuses = sql`status in ('pending', 'authorized', 'captured', 'declined', 'voided', 'refunded')`;
  if (isSqlite(db)) {
    await db.schema
      .createTable('payments_0015')
      .addColumn('order_id', 'varchar(36)', (c) => c.primaryKey().references('orders.id'))
      .addColumn('idempotency_key', 'varchar(80)', (c) => c.notNull().unique())
      .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents >= 0`))
      .addColumn('status', 'varchar(16)', (c) => c.notNull().check(statuses))
      .addColumn('provider_ref', 'varchar(80)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into payments_0015 select order_id, idempotency_key, amount_cents, status, provider_ref, created_at, updated_at from payments`.execute(db);
    await db.schema.dropTable('payments').execute();
    await sql`alter table payments_0015 rename to payments`.execute(db);
  } else {
    await sql`alter table payments drop constraint if exists payments_status_check`.execute(db);
    await sql`alter table payments add constraint payments_status_check check (${statuses})`.execute(db);
  }

  await stockMovementKinds(db);

  for (const [kind, where, key] of [
    ['authorization', `status in ('authorized', 'captured', 'voided', 'refunded')`, `idempotency_key`],
    ['void', `status = 'voided'`, `idempotency_key || ':void:1'`],
    ['capture', `status in ('captured', 'refunded')`, `idempotency_key || ':capture:1'`],
    ['refund', `status = 'refunded'`, `idempotency_key || ':refund:1'`],
  ] as const) {
    await sql
      .raw(
        `insert into payment_ledger (order_id, kind, amount_cents, status, provider_ref, idempotency_key, created_at, updated_at)
         select order_id, '${kind}', amount_cents, 'succeeded', provider_ref, ${key}, created_at, updated_at from payments where ${where}`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_ledger').execute();
}

async function stockMovementKinds(db: Kysely<any>): Promise<void> {
  const kinds = sql`kind in ('adjust', 'reserve', 'release', 'sale', 'restock', 'return')`;
  if (isSqlite(db)) {
    await autoIdColumn(db, db.schema.createTable('stock_movements_0015'))
      .addColumn('sku', 'varchar(64)', (c) => c.notNull().references('products.sku'))
      .addColumn('order_id', 'varchar(36)', (c) => c.references('orders.id'))
      .addColumn('kind', 'varchar(16)', (c) => c.notNull().check(kinds))
      .addColumn('on_hand_delta', 'bigint', (c) => c.notNull())
      .addColumn('reserved_delta', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'varchar(200)')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into stock_movements_0015 (id, sku, order_id, kind, on_hand_delta, reserved_delta, reason, at)
              select id, sku, order_id, kind, on_hand_delta, reserved_delta, reason, at from stock_movements`.execute(db);
    await db.schema.dropTable('stock_movements').execute();
    await sql`alter table stock_movements_0015 rename to stock_movements`.execute(db);
    await db.schema.createIndex('stock_movements_sku_idx').on('stock_movements').columns(['sku', 'id']).execute();
  } else {
    await sql`alter table stock_movements drop constraint if exists stock_movements_kind_check`.execute(db);
    await sql`alter table stock_movements add constraint stock_movements_kind_check check (${kinds})`.execute(db);
    await db.schema.dropIndex('stock_movements_once_per_order_idx').execute();
  }
  await db.schema
    .createIndex('stock_movements_once_per_order_idx')
    .on('stock_movements')
    .columns(['order_id', 'sku', 'kind'])
    .unique()
    .where(sql<boolean>`order_id is not null and kind <> 'return'`)
    .execute();
}
