import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, TEST_REDIS_URL, usesRedis, type Backend } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { assertBuilt, startCli, type RunningProcess } from '../cli/harness.js';
import { buildServer } from '../../src/server/build-server.js';
import { ADMIN, ADMIN_KEY } from '../helpers/server.js';

/** Every worker obeys a pause within this (README, "Acting on the pipeline"). */
const BOUND_MS = 2000;

let app: TestApp | undefined;
let server: FastifyInstance | undefined;
const running: RunningProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
  await server?.close();
  await app?.dispose();
  app = server = undefined;
});

function workerEnv(a: TestApp, backend: Backend, extra: Record<string, string> = {}): Record<string, string> {
  return {
    BUILDFLOW_LOG_LEVEL: 'warn',
    BUILDFLOW_PAYMENT_LATENCY_MS: '0',
    ...(a.config.databaseUrl ? { BUILDFLOW_DATABASE_URL: a.config.databaseUrl } : {}),
    ...(usesRedis(backend) ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: a.config.redis.prefix } : {}),
    ...extra,
  };
}

function startWorkers(a: TestApp, backend: Backend, n: number, extra: Record<string, string> = {}): RunningProcess[] {
  const started = Array.from({ length: n }, () => startCli(['worker', '--data-dir', a.dataDir, '--concurrency', '2'], workerEnv(a, backend, extra)));
  running.push(...started);
  return started;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Places orders over HTTP for `ms`, one every ~25 ms; every answer must be 201. */
async function placeFor(s: FastifyInstance, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let placed = 0;
  while (Date.now() < end) {
    const res = await s.inject({ method: 'POST', url: '/v1/orders', headers: ADMIN, payload: { items: [{ sku: 'A', quantity: 2 }] } });
    expect(res.statusCode, res.body).toBe(201);
    placed++;
    await sleep(25);
  }
  return placed;
}

/** The keys the simulated provider charged, one row per charge (its own file on SQLite, a table on Postgres). */
export async function providerCharges(a: TestApp): Promise<Set<string>> {
  if (a.config.databaseUrl) {
    const rows = await sql<{ idempotency_key: string }>`select idempotency_key from simulated_charges`.execute(a.db);
    expect(new Set(rows.rows.map((r) => r.idempotency_key)).size).toBe(rows.rows.length);
    return new Set(rows.rows.map((r) => r.idempotency_key));
  }
  const file = new BetterSqlite3(join(a.dataDir, 'simulated-payments.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = file.prepare('select idempotency_key from simulated_charges').all() as { idempotency_key: string }[];
    return new Set(rows.map((r) => r.idempotency_key));
  } finally {
    file.close();
  }
}

async function paymentsAfter(a: TestApp, at: number): Promise<number> {
  const rows = await a.db.selectFrom('payments').select('order_id').where('created_at', '>', at).execute();
  return rows.length;
}

for (const backend of BACKENDS) describe(`pause and resume a step [${backend}]`, () => {
  it('when pay is paused under load, then no payment starts after the bound, intake answers 201, reservations hold across a worker restart; after resume every order is confirmed and charged once', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 100_000, 1000);
    const s = (server = await buildServer(a, { adminKey: ADMIN_KEY }));
    await s.ready();
    // Reservations shorter than the pause and a busy sweeper: one held for the paused pay must not expire.
    const env = { BUILDFLOW_RESERVATION_TTL_MS: '3000', BUILDFLOW_SWEEP_INTERVAL_MS: '200' };
    const workers = startWorkers(a, backend, 2, env);
    let placed = await placeFor(s, 1000);
    await until('the first orders to be confirmed', async () => (await a.db.selectFrom('orders').select('id').where('status', '=', 'confirmed').execute()).length > 0);

    const paused = await s.inject({ method: 'POST', url: '/v1/admin/pipeline/pay/pause', headers: ADMIN, payload: { reason: 'provider outage' } });
    expect(paused.statusCode, paused.body).toBe(200);
    const pausedAt = Date.now();
    placed += await placeFor(s, BOUND_MS + 1500);
    expect(await paymentsAfter(a, pausedAt + BOUND_MS)).toBe(0);

    // Restart both workers: the pause is in the database, so the new ones obey it too.
    for (const w of workers) await w.stop();
    startWorkers(a, backend, 2, env);
    placed += await placeFor(s, 1500);
    await sleep(500);
    expect(await paymentsAfter(a, pausedAt + BOUND_MS)).toBe(0);

    const status = (await s.inject({ method: 'GET', url: '/v1/admin/pipeline', headers: ADMIN })).json();
    const pay = status.steps.find((x: { step: string }) => x.step === 'pay');
    const reserved = await a.db.selectFrom('orders').select('id').where('status', '=', 'reserved').execute();
    expect(reserved.length).toBeGreaterThan(0);
    expect(pay).toMatchObject({ paused: true, reason: 'provider outage', waitingOrders: reserved.length, stockHeld: reserved.length * 2 });
    expect(Date.parse(pay.oldestWaitingSince)).toBeLessThan(Date.now() - BOUND_MS);
    expect((await a.db.selectFrom('products').select('reserved').where('sku', '=', 'A').executeTakeFirstOrThrow()).reserved).toBeGreaterThanOrEqual(reserved.length * 2);
    expect(await a.db.selectFrom('orders').select('id').where('status', '=', 'cancelled').execute()).toEqual([]);

    const resumed = await s.inject({ method: 'POST', url: '/v1/admin/pipeline/pay/resume', headers: ADMIN, payload: {} });
    expect(resumed.json()).toMatchObject({ resumed: true });
    await until('every order to be confirmed', async () => (await a.db.selectFrom('orders').select('id').where('status', '=', 'confirmed').execute()).length === placed, 30_000).catch(async (e) => {
      const counts = await a.db.selectFrom('orders').select(['status', 'cancel_reason', (eb) => eb.fn.countAll().as('n')]).groupBy(['status', 'cancel_reason']).execute();
      throw new Error(`${(e as Error).message}: ${placed} placed, ${JSON.stringify(counts)}`);
    });
    expect(await a.db.selectFrom('orders').select('id').where('status', '<>', 'confirmed').execute()).toEqual([]);
    const payments = await a.db.selectFrom('payments').select(['order_id', 'status', 'idempotency_key']).execute();
    expect(payments).toHaveLength(placed);
    expect(payments.every((p) => p.status === 'captured')).toBe(true);
    // The provider's own books: one charge per order.
    expect(await providerCharges(a)).toEqual(new Set(payments.map((p) => p.idempotency_key)));
  }, 120_000);
});
