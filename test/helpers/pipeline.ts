import { PipelineRunner } from '../../src/worker/pipeline-runner.js';
import { OutboxWorker } from '../../src/worker/outbox-worker.js';
import { silentLogger } from '../../src/worker/logger.js';
import type { Buildflow } from '../../src/core/buildflow.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';

/** A worker that the test drives by hand, one batch at a time. */
export function manualWorker(app: Buildflow, options: { gateway?: PaymentGateway; batchSize?: number } = {}): OutboxWorker {
  const runner = new PipelineRunner({
    db: app.db,
    gateway: options.gateway ?? app.gateway,
    reservationTtlMs: app.config.reservationTtlMs,
    maxAttempts: app.config.maxAttempts,
    logger: silentLogger,
  });
  return new OutboxWorker(app.db, app.signal, runner, silentLogger, { batchSize: options.batchSize ?? 64, leaseMs: 30_000, pollMs: 10 });
}

/** Runs batches until no message is due; returns how many messages were handled. */
export async function runUntilIdle(app: Buildflow, options: Parameters<typeof manualWorker>[1] = {}): Promise<number> {
  const worker = manualWorker(app, options);
  let total = 0;
  for (let i = 0; i < 10_000; i++) {
    const n = await worker.runOnce();
    if (n === 0) return total;
    total += n;
  }
  throw new Error('pipeline did not become idle');
}

/** Counts rows of a table, optionally where a column has a value. */
export async function countRows(app: Buildflow, table: 'orders' | 'outbox' | 'notifications' | 'stock_movements' | 'payments' | 'shipments' | 'idempotency_keys'): Promise<number> {
  const row = await app.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Makes every pending message due now, so retries with backoff run in the next batch. */
export async function makeAllDue(app: Buildflow): Promise<void> {
  await app.db.updateTable('outbox').set({ available_at: 0, locked_until: null }).where('status', '=', 'pending').execute();
}

/** Everything the pipeline writes, minus outbox bookkeeping, for before/after comparisons. */
export async function snapshot(app: Buildflow): Promise<Record<string, unknown>> {
  const db = app.db;
  return {
    orders: await db.selectFrom('orders').selectAll().orderBy('id').execute(),
    products: await db.selectFrom('products').selectAll().orderBy('sku').execute(),
    movements: await db.selectFrom('stock_movements').selectAll().orderBy('id').execute(),
    history: await db.selectFrom('order_history').selectAll().orderBy('id').execute(),
    payments: await db.selectFrom('payments').selectAll().orderBy('order_id').execute(),
    notifications: await db.selectFrom('notifications').selectAll().orderBy('id').execute(),
    shipments: await db.selectFrom('shipments').selectAll().orderBy('order_id').execute(),
    outbox: await db.selectFrom('outbox').select(['id', 'topic', 'order_id', 'payload']).orderBy('id').execute(),
  };
}
