import type { PipelineRunner } from '../../src/core/pipeline/pipeline-runner.js';
import { createRunner } from '../../src/worker/start-workers.js';
import { OutboxWorker } from '../../src/worker/outbox-worker.js';
import { OutboxRelay } from '../../src/worker/outbox-relay.js';
import { RedisConsumer } from '../../src/worker/redis-consumer.js';
import { silentLogger } from '../../src/worker/logger.js';
import { OutboxQueue } from '../../src/core/transport/outbox-queue.js';
import { WakeSignal } from '../../src/core/outbox/wake-signal.js';
import type { Buildflow } from '../../src/core/buildflow.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { pauseStep, resumeStep } from '../../src/core/pipeline/pauses.js';

export interface ManualWorkerOptions {
  gateway?: PaymentGateway;
  batchSize?: number;
}

/** A worker the test drives by hand: each `runOnce` takes one batch of due messages through its steps. */
export interface ManualWorker {
  /** Runs one batch; returns how many messages it took (on Redis: published, whichever consumer ran them). */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

function runnerFor(app: Buildflow, options: ManualWorkerOptions): PipelineRunner {
  return createRunner(app, { gateway: options.gateway });
}

/**
 * The Redis transport driven by hand: a relay pass publishes due outbox rows to bee-queue, and a
 * real consumer takes them from Redis; `runOnce` returns when every row it published has been
 * claimed and its batch has finished.
 */
class RedisManualWorker implements ManualWorker {
  private readonly queues: OutboxQueue;
  private readonly relay: OutboxRelay;
  private readonly consumer: RedisConsumer;

  constructor(private readonly app: Buildflow, options: ManualWorkerOptions) {
    const { url, prefix } = app.config.redis;
    this.queues = new OutboxQueue({ url: url!, prefix, worker: true, onError: () => {} });
    // A private signal: the consumer's wake-ups must not make the relay publish behind the test's back.
    const signal = new WakeSignal();
    this.relay = new OutboxRelay(app.db, this.queues, signal, silentLogger, {
      batchSize: options.batchSize ?? 64,
      pollMs: 10,
      republishAfterMs: app.config.redis.republishAfterMs,
      jobTimeoutMs: 30_000,
    });
    this.consumer = new RedisConsumer(app.db, this.queues, runnerFor(app, options), signal, silentLogger, {
      jobsInFlight: 16,
      parallelBatches: 2,
      maxBatch: options.batchSize ?? 64,
      leaseMs: 30_000,
      stallCheckMs: 2_500,
    });
    this.consumer.start();
  }

  /**
   * Returns 0 only when the database holds no due, unleased message: a pass that published nothing
   * is not proof of that (a publish Redis did not confirm in time is undone, and on Postgres a row
   * another transaction holds for a moment is skipped), so it is tried again until the rows are
   * gone or 20 s have passed.
   */
  async runOnce(): Promise<number> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const published = await this.relay.publishOnce();
      if (published > 0) {
        while (Date.now() < deadline) {
          if (this.consumer.idle() && (await this.due(true)) === 0) return published;
          await sleep(5);
        }
        break;
      }
      if (this.consumer.idle() && (await this.due(false)) === 0) return 0;
      await sleep(5);
    }
    throw new Error('due messages were not published and consumed within 20 s');
  }

  /** Due rows no worker has leased: only those handed to Redis, or all of them. */
  private async due(publishedOnly: boolean): Promise<number> {
    const now = Date.now();
    let q = this.app.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .where('available_at', '<=', now)
      .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]));
    if (publishedOnly) q = q.where('published_at', 'is not', null);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async close(): Promise<void> {
    await this.queues.close();
    await this.consumer.drain();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A worker on the app's transport that the test drives by hand, one batch at a time. */
export function manualWorker(app: Buildflow, options: ManualWorkerOptions = {}): ManualWorker {
  if (app.config.redis.url) {
    // Opened per batch, so a test that runs one batch and moves on leaves no connection behind.
    return {
      async runOnce() {
        const w = new RedisManualWorker(app, options);
        try {
          return await w.runOnce();
        } finally {
          await w.close();
        }
      },
      async close() {},
    };
  }
  const worker = new OutboxWorker(app.db, app.signal, runnerFor(app, options), silentLogger, { batchSize: options.batchSize ?? 64, leaseMs: 30_000, pollMs: 10 });
  return { runOnce: () => worker.runOnce(), async close() {} };
}

/** Runs batches until no message is due; returns how many messages were handled. */
export async function runUntilIdle(app: Buildflow, options: ManualWorkerOptions = {}): Promise<number> {
  const worker = app.config.redis.url ? new RedisManualWorker(app, options) : manualWorker(app, options);
  try {
    let total = 0;
    for (let i = 0; i < 10_000; i++) {
      const n = await worker.runOnce();
      if (n === 0) return total;
      total += n;
    }
    throw new Error('pipeline did not become idle');
  } finally {
    await worker.close();
  }
}

/**
 * Runs the pipeline until every order waits at `step`: the step is paused for the run and resumed
 * after it, so the orders' messages are due again but nothing has run them yet. One message
 * carries an order through all its steps, so this is how a test stops an order between steps.
 */
export async function runUpTo(app: Buildflow, step: 'pay' | 'confirm', options: ManualWorkerOptions = {}): Promise<number> {
  await pauseStep(app.units, step, 'test: run up to this step');
  try {
    return await runUntilIdle(app, options);
  } finally {
    await resumeStep(app.units, step);
  }
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
