import { sql, type Kysely } from 'kysely';
import { CANCEL_REASONS, ORDER_STATUSES } from '../../domain/order-status.js';
import { autoIdColumn } from './dialect-types.js';

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** The first schema: catalog, orders, ledger, payments, notifications, shipments, outbox, idempotency. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('products')
    .addColumn('sku', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('category', 'varchar(100)', (c) => c.notNull())
    .addColumn('unit_price_cents', 'bigint', (c) => c.notNull().check(sql`unit_price_cents >= 0`))
    .addColumn('on_hand', 'bigint', (c) => c.notNull().check(sql`on_hand >= 0`))
    .addColumn('reserved', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`reserved >= 0`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('products_reserved_within_on_hand', sql`reserved <= on_hand`)
    .execute();
  await db.schema.createIndex('products_category_idx').on('products').columns(['category', 'sku']).execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('reference', 'varchar(16)', (c) => c.notNull().unique())
    .addColumn('customer_id', 'varchar(36)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in (${list(ORDER_STATUSES)})`))
    .addColumn('cancel_reason', 'varchar(32)', (c) => c.check(sql`cancel_reason in (${list(CANCEL_REASONS)})`))
    .addColumn('total_cents', 'bigint', (c) => c.notNull().check(sql`total_cents >= 0`))
    .addColumn('item_count', 'integer', (c) => c.notNull().check(sql`item_count > 0`))
    .addColumn('reservation_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint(
      'orders_cancel_reason_iff_cancelled',
      sql`(status = 'cancelled' and cancel_reason is not null) or (status <> 'cancelled' and cancel_reason is null)`,
    )
    .execute();
  await db.schema.createIndex('orders_status_idx').on('orders').columns(['status', 'updated_at']).execute();
  await db.schema.createIndex('orders_created_idx').on('orders').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('order_items')
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('sku', 'varchar(64)', (c) => c.notNull().references('products.sku'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('quantity', 'bigint', (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn('unit_price_cents', 'bigint', (c) => c.notNull().check(sql`unit_price_cents >= 0`))
    .addColumn('line_total_cents', 'bigint', (c) => c.notNull().check(sql`line_total_cents >= 0`))
    .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'sku'])
    .execute();

  await autoIdColumn(db, db.schema.createTable('order_history'))
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('from_status', 'varchar(16)')
    .addColumn('to_status', 'varchar(16)', (c) => c.notNull().check(sql`to_status in (${list(ORDER_STATUSES)})`))
    .addColumn('reason', 'varchar(200)')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('order_history_order_idx').on('order_history').columns(['order_id', 'id']).execute();

  await autoIdColumn(db, db.schema.createTable('stock_movements'))
    .addColumn('sku', 'varchar(64)', (c) => c.notNull().references('products.sku'))
    .addColumn('order_id', 'varchar(36)', (c) => c.references('orders.id'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull().check(sql`kind in ('adjust', 'reserve', 'release', 'sale')`))
    .addColumn('on_hand_delta', 'bigint', (c) => c.notNull())
    .addColumn('reserved_delta', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'varchar(200)')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stock_movements_sku_idx').on('stock_movements').columns(['sku', 'id']).execute();
  // One reserve, one release and one sale per order line at most: a redelivered step cannot move stock twice.
  await db.schema
    .createIndex('stock_movements_once_per_order_idx')
    .on('stock_movements')
    .columns(['order_id', 'sku', 'kind'])
    .unique()
    .where(sql.ref('order_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('payments')
    .addColumn('order_id', 'varchar(36)', (c) => c.primaryKey().references('orders.id'))
    .addColumn('idempotency_key', 'varchar(80)', (c) => c.notNull().unique())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('status', 'varchar(16)', (c) =>
      c.notNull().check(sql`status in ('pending', 'captured', 'declined', 'refunded')`),
    )
    .addColumn('provider_ref', 'varchar(80)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await autoIdColumn(db, db.schema.createTable('notifications'))
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('kind', 'varchar(40)', (c) => c.notNull())
    .addColumn('message', 'varchar(500)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('notifications_once_per_kind', ['order_id', 'kind'])
    .execute();

  await db.schema
    .createTable('shipments')
    .addColumn('order_id', 'varchar(36)', (c) => c.primaryKey().references('orders.id'))
    .addColumn('tracking_code', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('pending', 'shipped', 'delivered')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await autoIdColumn(db, db.schema.createTable('outbox'))
    .addColumn('topic', 'varchar(32)', (c) => c.notNull())
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`status in ('pending', 'done', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('available_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('last_error', 'varchar(1000)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('processed_at', 'bigint')
    .execute();
  // Workers only ever scan the pending rows; keep that index small.
  await db.schema
    .createIndex('outbox_due_idx')
    .on('outbox')
    .columns(['available_at', 'id'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.createIndex('outbox_order_idx').on('outbox').columns(['order_id']).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'varchar(64)', (c) => c.notNull())
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('response_status', 'integer', (c) => c.notNull())
    .addColumn('response_body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'outbox',
    'shipments',
    'notifications',
    'payments',
    'stock_movements',
    'order_history',
    'order_items',
    'orders',
    'products',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
