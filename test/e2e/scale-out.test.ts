import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { assertBuilt, startCli, startServer, type RunningProcess } from '../cli/harness.js';
import { Redis } from 'ioredis';
import { BACKENDS, TEST_REDIS_URL, deleteRedisKeys } from '../helpers/backends.js';
import { openCellStorage, stopWithin, type CellStorage } from '../helpers/cell-storage.js';
import type { Database } from '../../src/core/db/schema.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { pgbouncerCell, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.js';
import { upsertProduct } from '../../src/core/catalog/products.js';

const ADMIN_KEY = 'scale-out-admin-key-0123456789';
const runs = BACKENDS.includes('postgres+redis');
// The processes reach Postgres directly, and once more through a PgBouncer in transaction mode.
type Via = 'direct' | 'pgbouncer';
const VIAS: Via[] = pgbouncerCell ? ['direct', 'pgbouncer'] : ['direct'];

/**
 * One scale-out deployment of real processes on the machine's Postgres and Redis: a fresh
 * database and key prefix, N `serve --no-worker` and M `worker` processes, all removed afterwards.
 */
class Deployment {
  // Made in open(), so a skipped suite leaves no directory behind.
  storage: CellStorage | undefined;
  servers: (RunningProcess & { url: string })[] = [];
  workers: RunningProcess[] = [];
  db!: Kysely<Database>;
  env!: Record<string, string>;
  prefix!: string;
  pooler: PgBouncer | undefined;

  async open(extraEnv: Record<string, string>, products: { sku: string; onHand: number; price: number }[], via: Via = 'direct'): Promise<void> {
    const env = { BUILDFLOW_ADMIN_KEY: ADMIN_KEY, BUILDFLOW_LOG_LEVEL: 'warn', ...extraEnv };
    this.storage = await openCellStorage('postgres+redis', {
      tmpPrefix: 'buildflow-scale-',
      env,
      async seed(app) {
        for (const p of products) await upsertProduct(app.units, { sku: p.sku, name: p.sku, category: 'test', unitPriceCents: p.price, onHand: p.onHand });
      },
    });
    this.env = { ...this.storage.env, ...env };
    if (via === 'pgbouncer') {
      this.pooler = await startPgBouncer();
      this.env.BUILDFLOW_DATABASE_URL = this.pooler.url(this.env.BUILDFLOW_DATABASE_URL!);
      this.env.BUILDFLOW_DATABASE_PREPARED_STATEMENTS = 'off';
    }
    this.prefix = this.storage.prefix!;
    this.db = this.storage.db;
  }

  async startServers(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.servers.push(await startServer(`${this.storage!.dir}/serve-${i}`, ['--no-worker'], this.env));
  }

  startWorker(args: string[] = []): RunningProcess {
    const w = startCli(['worker', '--data-dir', `${this.storage!.dir}/worker`, ...args], this.env);
    this.workers.push(w);
    return w;
  }

  async statusCounts(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('orders').select(['status', 'cancel_reason']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy(['status', 'cancel_reason']).execute();
    return Object.fromEntries(rows.map((r) => [r.cancel_reason ? `${r.status}:${r.cancel_reason}` : r.status, Number(r.n)]));
  }

  async count(table: 'orders' | 'payments' | 'notifications' | 'shipments', where?: [string, string]): Promise<number> {
    let q = this.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (where) q = q.where(where[0] as never, '=', where[1] as never);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Waits until `expected` orders are final and no outbox row is pending. */
  /** Waits until `n` worker processes are registered (started, their transport up). */
  async untilWorkersRegistered(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Number((await this.db.selectFrom('workers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n) < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} workers registered after ${timeoutMs} ms; worker stderr: ${this.workers.map((w) => w.output().stderr.slice(-2000)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async untilAllFinal(expected: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.statusCounts();
      const final = Object.entries(c).filter(([k]) => k === 'confirmed' || k.startsWith('cancelled')).reduce((s, [, n]) => s + n, 0);
      // Final is not the end of the work: a refund or a carrier update may still be queued.
      const queued = final === expected ? Number((await this.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n) : -1;
      if (queued === 0) return;
      if (Date.now() > deadline) throw new Error(`orders not final with nothing queued after ${timeoutMs} ms: ${JSON.stringify(c)}, ${queued} outbox rows pending; worker stderr: ${this.workers.map((w) => w.output().stderr.slice(-2000)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The promises every deployment keeps, checked on the database after the run. */
  async checkInvariants(): Promise<void> {
    expect(await findStockDrift(this.db)).toEqual([]);
    const payments = await this.db.selectFrom('payments').select(['order_id', 'idempotency_key', 'status', 'amount_cents']).execute();
    expect(new Set(payments.map((p) => p.order_id)).size).toBe(payments.length); // one payment per order at most
    const charges = await this.db.selectFrom('simulated_charges' as never).select(['idempotency_key', 'outcome', 'amount_cents'] as never[]).execute() as { idempotency_key: string; outcome: string; amount_cents: number }[];
    const byKey = new Map(charges.map((c) => [c.idempotency_key, c]));
    expect(byKey.size).toBe(charges.length); // the provider charged each key once
    const confirmed = await this.db.selectFrom('orders').select(['id', 'total_cents']).where('status', '=', 'confirmed').execute();
    for (const o of confirmed) {
      const p = payments.find((x) => x.order_id === o.id);
      expect(p).toMatchObject({ status: 'captured', amount_cents: o.total_cents });
      expect(byKey.get(p!.idempotency_key)).toMatchObject({ outcome: 'captured', amount_cents: o.total_cents });
    }
    // Every order was told its outcome exactly once.
    const notes = await this.db.selectFrom('notifications').select('order_id').select((eb) => eb.fn.countAll<number>().as('n')).groupBy('order_id').execute();
    expect(notes).toHaveLength(await this.count('orders'));
    expect(notes.every((n) => Number(n.n) === 1)).toBe(true);
    expect(await this.count('shipments')).toBe(confirmed.length);
    const open = await this.db.selectFrom('outbox').select('status').where('status', '<>', 'done').execute();
    expect(open).toEqual([]);
  }

  /** Stops every process (SIGKILL after 15 s) and removes the database, the keys and the files, whatever fails. */
  async close(): Promise<void> {
    try {
      await Promise.all([...this.workers, ...this.servers].map((p) => stopWithin(p, 15_000)));
    } finally {
      await this.pooler?.close();
      await this.storage?.remove();
    }
  }
}

async function placeOrder(url: string, key: string, items: { sku: string; quantity: number }[]): Promise<{ status: number; id?: string }> {
  const res = await fetch(`${url}/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ items }),
  });
  const body = (await res.json()) as { id?: string };
  return { status: res.status, id: body.id };
}

/** Runs `count` tasks with at most `parallel` at once. */
async function pool<T>(count: number, parallel: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }));
  return results;
}

describe.skipIf(!runs).each(VIAS)('scale-out on Postgres + Redis, real processes (%s)', (via) => {
  const d = new Deployment();
  beforeAll(async () => {
    assertBuilt();
    // Every fourth order wants one of 300 scarce units: 500 ask, exactly 300 may be confirmed.
    await d.open({ BUILDFLOW_PAYMENT_LATENCY_MS: '0', BUILDFLOW_WORKER_CONCURRENCY: '4' }, [
      { sku: 'LOTS', onHand: 1_000_000, price: 250 },
      { sku: 'FEW', onHand: 300, price: 990 },
    ], via);
    await d.startServers(2);
    d.startWorker();
    d.startWorker();
    // Both take part from the first order: a worker still starting when the orders are done would
    // be stopped before it was ready.
    await d.untilWorkersRegistered(2);
  });
  afterAll(() => d.close());

  it('when 2 servers and 2 workers take 2,000 orders from concurrent clients, then every order is final, paid once, and stock reconciles', { timeout: 180_000 }, async () => {
    const ORDERS = 2000;
    const items = (i: number) => [{ sku: 'LOTS', quantity: 1 + (i % 3) }, ...(i % 4 === 0 ? [{ sku: 'FEW', quantity: 1 }] : [])];
    const first = await pool(ORDERS, 32, (i) => placeOrder(d.servers[i % 2]!.url, `so-${i}`, items(i)));
    expect(first.every((r) => r.status === 201)).toBe(true);
    // Every tenth client retries its request against the other server: it must get the same order.
    const retried = await pool(ORDERS / 10, 16, (j) => placeOrder(d.servers[(j * 10 + 1) % 2]!.url, `so-${j * 10}`, items(j * 10)));
    expect(retried.map((r) => r.id)).toEqual(first.filter((_, i) => i % 10 === 0).map((r) => r.id));
    expect(new Set(first.map((r) => r.id)).size).toBe(ORDERS);

    await d.untilAllFinal(ORDERS, 120_000);
    expect(await d.count('orders')).toBe(ORDERS);
    expect(await d.statusCounts()).toEqual({ confirmed: 1800, 'cancelled:out_of_stock': 200 });
    await d.checkInvariants();
    // Both workers took part: the queues spread the work.
    for (const w of d.workers) expect(w.child.exitCode).toBeNull();
    for (const w of d.workers) {
      const code = await w.stop();
      expect(code, `worker exit ${code} (signal ${w.child.signalCode}); stderr:\n${w.output().stderr.slice(-3000)}`).toBe(0);
    }
    // Finished jobs are removed from Redis: nothing waits, nothing is kept.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      expect(await redis.keys(`${d.prefix}:bq:*:waiting`)).toEqual([]);
      expect(await redis.keys(`${d.prefix}:bq:*:jobs`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});

describe.skipIf(!runs).each(VIAS)('scale-out faults, real processes (%s)', (via) => {
  const d = new Deployment();
  beforeAll(async () => {
    assertBuilt();
    // Slow payments keep orders in flight; short republish and stuck bounds make recovery quick. The
    // lease stays well above a batch's run time on a loaded 2-core machine: a lease that lapses
    // under a live batch lets another worker take the message and count an attempt.
    await d.open(
      {
        BUILDFLOW_PAYMENT_LATENCY_MS: '300',
        BUILDFLOW_WORKER_LEASE_MS: '5000',
        BUILDFLOW_REPUBLISH_AFTER_MS: '1000',
        BUILDFLOW_STUCK_AFTER_MS: '2000',
        BUILDFLOW_SWEEP_INTERVAL_MS: '500',
      },
      [
        { sku: 'LOTS', onHand: 1_000_000, price: 250 },
        { sku: 'FEW', onHand: 60, price: 990 },
      ],
      via,
    );
    await d.startServers(1);
  });
  afterAll(() => d.close());

  it('when a worker is SIGKILLed mid-charge and Redis loses every queued job, then relay and sweeper still bring every order to one final state', { timeout: 180_000 }, async () => {
    const ORDERS = 300;
    const placed = await pool(ORDERS, 32, (i) => placeOrder(d.servers[0]!.url, `fault-${i}`, [{ sku: 'LOTS', quantity: 1 }, ...(i % 3 === 0 ? [{ sku: 'FEW', quantity: 1 }] : [])]));
    expect(placed.every((r) => r.status === 201)).toBe(true);

    const victim = d.startWorker();
    const survivor = d.startWorker(['--no-sweeper']);
    const deadline = Date.now() + 30_000;
    while ((await d.count('payments', ['status', 'pending'])) === 0) {
      if (Date.now() > deadline) throw new Error('no charge went in flight');
      await new Promise((r) => setTimeout(r, 20));
    }
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    // Simulated data loss: every key of this deployment gone, queued jobs and all.
    await deleteRedisKeys(d.prefix);
    const atFault = await d.statusCounts();
    expect((atFault.pending ?? 0) + (atFault.reserved ?? 0) + (atFault.paid ?? 0)).toBeGreaterThan(0); // the faults hit mid-run

    d.startWorker(); // the restarted worker
    await d.untilAllFinal(ORDERS, 120_000);
    expect(await d.statusCounts()).toEqual({ confirmed: 260, 'cancelled:out_of_stock': 40 });
    await d.checkInvariants();
    expect(survivor.child.exitCode).toBeNull();
  });
});

describe.skipIf(!runs || !pgbouncerCell)('scale-out through PgBouncer, the pooler restarted under load', () => {
  const d = new Deployment();
  beforeAll(async () => {
    assertBuilt();
    await d.open(
      {
        BUILDFLOW_PAYMENT_LATENCY_MS: '0',
        BUILDFLOW_WORKER_LEASE_MS: '5000',
        BUILDFLOW_REPUBLISH_AFTER_MS: '1000',
        BUILDFLOW_STUCK_AFTER_MS: '2000',
        BUILDFLOW_SWEEP_INTERVAL_MS: '500',
      },
      [{ sku: 'LOTS', onHand: 1_000_000, price: 250 }],
      'pgbouncer',
    );
    await d.startServers(1);
    d.startWorker();
  });
  afterAll(() => d.close());

  it('when the pooler is killed (SIGKILL, then SIGTERM) and started again while orders are posted, then the API answers 201 or 503, every 201 order reaches one final state, and every process recovers', { timeout: 180_000 }, async () => {
    const url = d.servers[0]!.url;
    const items = [{ sku: 'LOTS', quantity: 1 }];
    // The worker is at work before the pooler goes: a process starting while its database is away
    // exits (its supervisor starts it again), which is not what this test is about.
    expect((await placeOrder(url, 'restart-first', items)).status).toBe(201);
    await d.untilAllFinal(1, 60_000);
    const answers: { key: string; status: number; id?: string }[] = [];
    let posting = true;
    let next = 0;
    const clients = Array.from({ length: 8 }, async () => {
      while (posting) {
        const key = `restart-${next++}`;
        answers.push({ key, ...(await placeOrder(url, key, items)) });
      }
    });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pooler = d.pooler!;
    await pause(1_500);
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await pooler.kill(signal);
      await pause(1_000);
      await pooler.start();
      await pause(1_500);
    }
    posting = false;
    await Promise.all(clients);

    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 503);
    expect([...new Set(answers.map((a) => a.status))].filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(created.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0); // the pooler was away while clients posted
    // The server recovered: new orders go in, and a refused one goes in when its client retries.
    const after = await pool(20, 8, (i) => placeOrder(url, `after-${i}`, items));
    expect(after.map((r) => r.status)).toEqual(Array(20).fill(201));
    const retried = await pool(refused.length, 8, (i) => placeOrder(url, refused[i]!.key, items));
    expect(retried.map((r) => r.status)).toEqual(Array(refused.length).fill(201));

    // Orders whose 503 came after their commit exist too: every order in the database must end final.
    const total = await d.count('orders');
    await d.untilAllFinal(total, 120_000);
    const accepted = [...created, ...after, ...retried].map((a) => a.id!);
    const final = await d.db.selectFrom('orders').select(['id', 'status']).where('id', 'in', accepted).execute();
    expect(final).toHaveLength(new Set(accepted).size);
    expect(final.every((o) => o.status === 'confirmed')).toBe(true);
    await d.checkInvariants();
    for (const p of [...d.servers, ...d.workers]) expect(p.child.exitCode).toBeNull();
  });
});
