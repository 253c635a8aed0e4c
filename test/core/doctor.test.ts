import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigOverrides } from '../../src/core/config.js';
import { sqliteFile } from '../../src/core/db/sqlite/sqlite.js';
import { CHECK_NAMES, type CheckName, type DoctorCheck } from '../../src/core/doctor/check.js';
import { runDoctor, type DoctorReport } from '../../src/core/doctor/run-doctor.js';
import { migrationProvider } from '../../src/core/db/migrations/index.js';
import { FORGET_AFTER_MS, WorkerHeartbeat } from '../../src/core/workers/worker-registry.js';
import { BACKENDS, TEST_REDIS_URL, freshPostgresDatabase, usesPostgres, usesRedis } from '../helpers/backends.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { requestReturn } from '../../src/core/returns/request-return.js';
import { receiveReturn } from '../../src/core/returns/receive-return.js';
import { addProduct, openTestApp, tempDataDir, type TestApp } from '../helpers/test-app.js';

const REDIS_URL = TEST_REDIS_URL;

let app: TestApp | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await app?.dispose();
  app = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The config doctor would see for `app`'s database, plus `overrides` (no env leaks in). Redis is
 * left out even on a `+redis` backend: the cases looping over BACKENDS are about the database
 * side; the Redis checks have their own cases below.
 */
function configOf(target: TestApp, overrides: ConfigOverrides = {}) {
  return loadConfig(
    {
      BUILDFLOW_DATA_DIR: target.dataDir,
      BUILDFLOW_DATABASE_URL: target.config.databaseUrl,
      BUILDFLOW_STUCK_AFTER_MS: target.config.stuckAfterMs,
      ...overrides,
    },
    {},
  );
}

function check(report: DoctorReport, name: CheckName): DoctorCheck {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(report)}`);
  return found;
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

const REDIS_SKIPPED = { redis: 'skip', 'redis-persistence': 'skip', 'redis-eviction': 'skip' };

/** A port that accepts connections and never says a word, as a hung server or a dead backend behind a proxy. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A row in the worker registry, as a worker process of this host writes it. */
async function registerWorker(target: TestApp, w: { id?: string; pid?: number; lastSeenAt?: number; roles?: string; heartbeatMs?: number } = {}): Promise<string> {
  const id = w.id ?? `worker-test-${randomBytes(4).toString('hex')}`;
  const now = Date.now();
  await target.db
    .insertInto('workers')
    .values({
      id,
      host: hostname(),
      pid: w.pid ?? process.pid,
      roles: w.roles ?? 'steps,sweeper,deliveries',
      transport: 'local',
      concurrency: 1,
      heartbeat_ms: w.heartbeatMs ?? 5_000,
      started_at: now,
      last_seen_at: w.lastSeenAt ?? now,
      handled: 0,
    })
    .execute();
  return id;
}

/** The pid of a process of this host that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function knownMigrations(): Promise<string[]> {
  return Object.keys(await migrationProvider.getMigrations()).sort();
}

for (const backend of BACKENDS) describe(`doctor [${backend}]`, () => {
  it('when the deployment is healthy, then every check is ok except Redis, which is not configured', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUntilIdle(app);

    const report = await runDoctor(configOf(app));
    expect(report.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(statuses(report)).toEqual({
      database: 'ok',
      migrations: 'ok',
      'outbox-backlog': 'ok',
      workers: 'ok',
      'stuck-orders': 'ok',
      'stock-reconciliation': 'ok',
      'money-reconciliation': 'ok',
      ...REDIS_SKIPPED,
    });
    expect(report).toMatchObject({ healthy: true, status: 'ok' });
    expect(check(report, 'migrations').detail).toBe(`all ${(await knownMigrations()).length} migrations applied`);
    expect(check(report, 'stock-reconciliation').detail).toBe('1 product: on_hand and reserved agree with the stock ledger');
    expect(check(report, 'redis').detail).toMatch(/not configured \(BUILDFLOW_REDIS_URL unset\)/);
    for (const c of report.checks) expect(c.detail, c.name).not.toContain('\n');
  });

  it('when an order\'s payment ledger is altered by hand, then money reconciliation fails and names the order', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5, 1000);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    const { order: other } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await runUntilIdle(app);
    expect(check(await runDoctor(configOf(app)), 'money-reconciliation').status).toBe('ok');

    // A refund nobody asked for: more than the capture.
    await app.db
      .insertInto('payment_ledger')
      .values({ order_id: order.id, kind: 'refund', amount_cents: 2500, status: 'succeeded', provider_ref: null, idempotency_key: 'by-hand', reason: 'by hand', return_id: null, created_at: Date.now(), updated_at: Date.now() })
      .execute();
    // A capture cut short: confirmed, but charged less than its total.
    await app.db.updateTable('payment_ledger').set({ amount_cents: 400 }).where('order_id', '=', other.id).where('kind', '=', 'capture').execute();

    const report = await runDoctor(configOf(app));
    const money = check(report, 'money-reconciliation');
    expect(money.status).toBe('fail');
    expect(money.detail).toContain(`${order.reference}: refunded 2500 exceeds captured 2000`);
    expect(money.detail).toContain(`${other.reference}: confirmed with 400 captured of a total of 1000`);
    expect(money.data).toMatchObject({ mismatched: 2 });
    expect(report).toMatchObject({ healthy: false, status: 'fail' });
  });

  it("when a received return's refund row is altered by hand, then money reconciliation fails and names the order", async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5, 1000);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 3 }] });
    await runUntilIdle(app);
    const { tracking_code } = await app.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    await requestShipmentUpdate(app.units, tracking_code, 'shipped');
    await runUntilIdle(app);
    const { created: asked } = await requestReturn(app.units, order.id, { items: [{ sku: 'A', quantity: 2 }], reason: 'too many' }, { by: 'admin', windowDays: 30 });
    await receiveReturn(app.units, asked.id, [{ sku: 'A', quantity: 2, restock: true }]);
    await runUntilIdle(app);
    expect(check(await runDoctor(configOf(app)), 'money-reconciliation').status).toBe('ok');

    await app.db.updateTable('payment_ledger').set({ amount_cents: 1500 }).where('return_id', '=', asked.id).execute();
    const money = check(await runDoctor(configOf(app)), 'money-reconciliation');
    expect(money.status).toBe('fail');
    expect(money.detail).toContain(`${order.reference}: return ${asked.id} refunded 1500 of its lines' price 2000`);
  });

  it('when a product row is changed behind the ledger, then stock reconciliation fails and names the product', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await addProduct(app, 'B', 3);
    await app.db.updateTable('products').set({ on_hand: 7 }).where('sku', '=', 'B').execute();

    const report = await runDoctor(configOf(app));
    const stock = check(report, 'stock-reconciliation');
    expect(stock.status).toBe('fail');
    expect(stock.detail).toMatch(/^1 of 2 products disagree with their stock ledger \(B: on_hand 7, ledger 3\)/);
    expect(stock.data).toMatchObject({ products: 2, drifting: 1, drift: [{ sku: 'B', onHand: 7, ledgerOnHand: 3 }] });
    expect(report).toMatchObject({ healthy: false, status: 'fail' });
    expect(check(report, 'database').status).toBe('ok');
  });

  it('when work waits past the stuck bound, then backlog and stuck orders warn, and past 10 × the bound they fail', async () => {
    app = await openTestApp({ BUILDFLOW_STUCK_AFTER_MS: 60_000 }, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] }); // no worker runs: the reserve message waits
    // A registered worker whose heartbeats keep coming through the simulated 11 minutes: the work
    // is attended (the workers check passes) and only its age is judged here.
    await registerWorker(app, { lastSeenAt: Date.now() + 11 * 60_000 });
    const config = configOf(app);

    const fresh = await runDoctor(config);
    expect(check(fresh, 'outbox-backlog')).toMatchObject({ status: 'ok', data: { pending: 1, due: 1 } });
    expect(check(fresh, 'outbox-backlog').detail).toMatch(/, under the 1 min stuck bound$/);
    expect(check(fresh, 'stuck-orders').status).toBe('ok');

    const later = await runDoctor(config, { now: Date.now() + 2 * 60_000 });
    expect(check(later, 'outbox-backlog').status).toBe('warn');
    expect(check(later, 'outbox-backlog').detail).toMatch(/^1 outbox row due, the oldest waiting 2 min \(over the 1 min stuck bound\)/);
    expect(check(later, 'stuck-orders')).toMatchObject({ status: 'warn', data: { count: 1, byStatus: { pending: 1 } } });
    expect(check(later, 'stuck-orders').detail).toMatch(/^1 order stuck for over 1 min \(1 pending; oldest 2 min\)/);
    expect(later).toMatchObject({ healthy: true, status: 'warn' });

    const muchLater = await runDoctor(config, { now: Date.now() + 11 * 60_000 });
    expect(check(muchLater, 'outbox-backlog').status).toBe('fail');
    expect(check(muchLater, 'stuck-orders').status).toBe('fail');
    expect(check(muchLater, 'stuck-orders').detail).toMatch(/nothing is re-driving them/);
    expect(muchLater.healthy).toBe(false);
  });

  it('when work is due and no worker is registered, then workers fails at once, however young the work', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });

    const report = await runDoctor(configOf(app));
    expect(check(report, 'outbox-backlog').status).toBe('ok');
    const workers = check(report, 'workers');
    expect(workers.status).toBe('fail');
    expect(workers.detail).toBe('1 pipeline message due and no live worker takes it (role steps; no worker with that role is registered): start buildflow worker (or serve)');
    expect(report.healthy).toBe(false);
  });

  it('when the only worker died on this host, then workers fails naming it; a restart of the same roles clears it and doctor passes', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    // Heartbeats still fresh: only its pid tells that it is gone.
    const dead = await registerWorker(app, { pid: await deadPid() });

    const report = await runDoctor(configOf(app));
    const workers = check(report, 'workers');
    expect(workers.status).toBe('fail');
    expect(workers.detail).toMatch(new RegExp(`^1 pipeline message due and no live worker takes it \\(role steps; gone: ${dead} \\(${hostname()} pid \\d+, last seen \\d+ ms ago\\)\\)`));
    expect(workers.data).toMatchObject({ alive: 0, gone: 1, unattended: [{ role: 'steps', count: 1, gone: [dead] }] });

    // The restart: a live registration of the same host and roles.
    const heartbeat = new WorkerHeartbeat(app.db, { id: 'worker-restarted', roles: ['steps', 'sweeper', 'deliveries'], transport: 'local', concurrency: 1, heartbeatMs: 5_000 }, () => 0);
    await heartbeat.start();
    try {
      expect(await app.db.selectFrom('workers').select('id').where('id', '=', dead).executeTakeFirst()).toBeUndefined();
      const after = await runDoctor(configOf(app));
      expect(check(after, 'workers')).toMatchObject({ status: 'ok', detail: '1 worker alive (deliveries, steps, sweeper)' });
      expect(after.healthy).toBe(true);
    } finally {
      await heartbeat.stop();
    }
  });

  it('when a worker without the steps role is alive, then pipeline work is still unattended', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await registerWorker(app, { roles: 'sweeper,deliveries' });

    const workers = check(await runDoctor(configOf(app)), 'workers');
    expect(workers).toMatchObject({ status: 'fail', data: { alive: 1, unattended: [{ role: 'steps', count: 1 }] } });
  });

  it('when a worker went gone elsewhere and nothing is due, then workers warns, and it is forgotten after the bound', async () => {
    app = await openTestApp({}, {}, backend);
    const lastSeen = Date.now() - 60_000;
    await app.db.insertInto('workers').values({ id: 'worker-elsewhere', host: 'another-host', pid: 1, roles: 'steps', transport: 'local', concurrency: 1, heartbeat_ms: 5_000, started_at: lastSeen, last_seen_at: lastSeen, handled: 0 }).execute();

    const report = await runDoctor(configOf(app));
    expect(check(report, 'workers')).toMatchObject({ status: 'warn', data: { alive: 0, gone: 1 } });
    expect(check(report, 'workers').detail).toMatch(/1 gone without stopping: worker-elsewhere \(another-host pid 1\)/);
    expect(report.healthy).toBe(true);

    // Gone 15 s after its last heartbeat, forgotten FORGET_AFTER_MS later.
    const forgotten = await runDoctor(configOf(app), { now: lastSeen + 15_000 + FORGET_AFTER_MS + 1 });
    expect(check(forgotten, 'workers')).toMatchObject({ status: 'ok', data: { alive: 0, gone: 0 } });
  });

  it('when the last migration is missing, then migrations fail naming it, and the other checks still run', async () => {
    app = await openTestApp({}, {}, backend);
    const known = await knownMigrations();
    const last = known[known.length - 1]!;
    // Forget the bookkeeping only: the tables stay, as after a code upgrade that nobody migrated.
    await (app.db as any).deleteFrom('kysely_migration').where('name', '=', last).execute();

    const report = await runDoctor(configOf(app));
    expect(check(report, 'migrations')).toMatchObject({
      status: 'fail',
      detail: `1 of ${known.length} migrations not applied (${last}): run buildflow migrate`,
      data: { pending: [last] },
    });
    expect(check(report, 'stock-reconciliation').status).toBe('ok');
    expect(report.healthy).toBe(false);
  });
});

describe('doctor on SQLite without a usable database', () => {
  it('when the data directory has no database, then database fails with a clear detail, and doctor creates nothing', async () => {
    const { dir, cleanup } = tempDataDir();
    cleanups.push(cleanup);
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATA_DIR: dir }, {}));
    expect(check(report, 'database')).toMatchObject({
      status: 'fail',
      detail: `no database at ${sqliteFile(dir)} (run buildflow migrate or serve)`,
    });
    for (const name of ['migrations', 'outbox-backlog', 'stuck-orders', 'stock-reconciliation', 'money-reconciliation'] as const) {
      expect(check(report, name)).toMatchObject({ status: 'skip', detail: 'skipped: there is no database' });
    }
    expect(report).toMatchObject({ healthy: false, status: 'fail' });
    expect(existsSync(sqliteFile(dir))).toBe(false);
  });

  it('when the database file was never migrated, then migrations fail and the checks needing tables are skipped', async () => {
    const { dir, cleanup } = tempDataDir();
    cleanups.push(cleanup);
    writeFileSync(sqliteFile(dir), ''); // an empty file is an empty SQLite database
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATA_DIR: dir }, {}));
    expect(check(report, 'database').status).toBe('ok');
    expect(check(report, 'migrations')).toMatchObject({ status: 'fail', data: { applied: 0 } });
    expect(check(report, 'migrations').detail).toMatch(/^the database is not migrated \(none of \d+ migrations applied\): run buildflow migrate$/);
    expect(check(report, 'outbox-backlog')).toMatchObject({ status: 'skip', detail: 'skipped: the database is not migrated' });
    expect(report.healthy).toBe(false);
  });

  it('when the database file is not a database, then database fails with the reason instead of throwing', async () => {
    const { dir, cleanup } = tempDataDir();
    cleanups.push(cleanup);
    writeFileSync(sqliteFile(dir), 'this is not a SQLite file, just text long enough to have a header of sorts '.repeat(20));
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATA_DIR: dir }, {}));
    expect(check(report, 'database').status).toBe('fail');
    expect(check(report, 'database').detail).toMatch(/^cannot open the database at .*buildflow\.db: file is not a database$/);
    expect(check(report, 'migrations').status).toBe('skip');
  });
});

// Like every suite that needs a service: runs when BUILDFLOW_TEST_BACKENDS names a Postgres cell (CI does).
describe.skipIf(!BACKENDS.some(usesPostgres))('doctor on Postgres', () => {
  it('when the deployment is migrated, then the database checks are ok and name the server without credentials', async () => {
    app = await openTestApp({}, {}, 'postgres');
    await addProduct(app, 'A', 5);
    const report = await runDoctor(configOf(app));
    expect(statuses(report)).toEqual({
      database: 'ok',
      migrations: 'ok',
      'outbox-backlog': 'ok',
      workers: 'ok',
      'stuck-orders': 'ok',
      'stock-reconciliation': 'ok',
      'money-reconciliation': 'ok',
      ...REDIS_SKIPPED,
    });
    const dbName = new URL(app.config.databaseUrl!).pathname;
    expect(check(report, 'database').detail).toBe(`Postgres at postgres://127.0.0.1:5432${dbName} (schema public)`);
    expect(report.healthy).toBe(true);
  });

  it('when the database exists but was never migrated, then migrations fail', async () => {
    const database = await freshPostgresDatabase();
    cleanups.push(() => database.drop());
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATABASE_URL: database.url }, {}));
    expect(check(report, 'database').status).toBe('ok');
    expect(check(report, 'migrations')).toMatchObject({ status: 'fail', data: { applied: 0 } });
    expect(check(report, 'stuck-orders').status).toBe('skip');
    expect(report.healthy).toBe(false);
  });

  it('when Postgres cannot be reached, then database fails quickly with the reason', async () => {
    const started = Date.now();
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/test' }, {}));
    expect(Date.now() - started).toBeLessThan(3_000);
    const database = check(report, 'database');
    expect(database.status).toBe('fail');
    expect(database.detail).toBe(
      'cannot connect to Postgres at postgres://127.0.0.1:1/test: connect ECONNREFUSED 127.0.0.1:1 (check BUILDFLOW_DATABASE_URL and that the server is up)',
    );
    expect(check(report, 'migrations')).toMatchObject({ status: 'skip', detail: 'skipped: the database cannot be reached' });
  });

  it('when a table stays locked, then the query gives up at the bound, the check fails, and doctor still returns', async () => {
    app = await openTestApp({}, {}, 'postgres');
    await addProduct(app, 'A', 5);
    const locker = new pg.Client({ connectionString: app.config.databaseUrl });
    locker.on('error', () => {}); // dispose drops the database under it if the test fails early
    await locker.connect();
    cleanups.push(() => locker.end().catch(() => {}));
    await locker.query('begin');
    await locker.query('lock table products in access exclusive mode');

    const started = Date.now();
    const report = await runDoctor(configOf(app), { timeoutMs: 1000 });
    const elapsed = Date.now() - started;
    await locker.query('rollback');
    await locker.end();
    expect(elapsed).toBeLessThan(4_000);
    expect(check(report, 'stock-reconciliation').status).toBe('fail');
    expect(check(report, 'stock-reconciliation').detail).toMatch(
      /^reading stock and ledger failed: (the reconciliation query did not answer within 1 s|canceling statement due to statement timeout); is the database overloaded, or a table locked by a long transaction\?$/,
    );
    expect(check(report, 'outbox-backlog').status).toBe('ok');
  });

  it('when the port accepts but never answers, then database fails at the bound', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const started = Date.now();
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/test` }, {}), { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(check(report, 'database').detail).toBe(
      `cannot connect to Postgres at postgres://127.0.0.1:${silent.port}/test: 127.0.0.1:${silent.port} did not answer within 500 ms (check BUILDFLOW_DATABASE_URL and that the server is up)`,
    );
  });

  it('when the named database does not exist, then database fails with what the server said', async () => {
    const report = await runDoctor(loadConfig({ BUILDFLOW_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/bf_missing_${randomBytes(4).toString('hex')}` }, {}));
    expect(check(report, 'database').status).toBe('fail');
    expect(check(report, 'database').detail).toMatch(/^cannot connect to Postgres at .*: database "bf_missing_\w+" does not exist/);
  });
});

describe.skipIf(!BACKENDS.some(usesRedis))('doctor with Redis', () => {
  /** What the real server says, read the way an operator would. */
  async function serverSettings(): Promise<{ appendonly: string; policy: string }> {
    const redis = new Redis(REDIS_URL);
    try {
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
      return { appendonly: appendonly!, policy: policy! };
    } finally {
      redis.disconnect();
    }
  }

  it('when Redis is reachable, then persistence and eviction are judged on what CONFIG GET reads', async () => {
    app = await openTestApp();
    const report = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: REDIS_URL }));
    const { appendonly, policy } = await serverSettings();

    expect(check(report, 'redis').status).toBe('ok');
    expect(check(report, 'redis').detail).toMatch(/^Redis reachable at redis:\/\/127\.0\.0\.1:6379 \(PING \d+ ms\)$/);
    const persistence = check(report, 'redis-persistence');
    expect(persistence).toMatchObject({ status: appendonly === 'yes' ? 'ok' : 'fail', data: { appendonly, source: 'CONFIG GET' } });
    if (appendonly !== 'yes') {
      expect(persistence.detail).toBe(
        'Redis appendonly is off: a Redis restart loses queued jobs; set appendonly yes (CONFIG SET appendonly yes, and in redis.conf)',
      );
    }
    expect(check(report, 'redis-eviction')).toMatchObject({ status: policy === 'noeviction' ? 'ok' : 'fail', data: { 'maxmemory-policy': policy } });
    expect(report.healthy).toBe(appendonly === 'yes' && policy === 'noeviction');
  });

  it('when redis-persistence is accepted (BUILDFLOW_ACCEPT or the option), then its failure is a warning that says so, and nothing else is accepted', async () => {
    app = await openTestApp();
    const { appendonly } = await serverSettings();
    const accepted = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: REDIS_URL, BUILDFLOW_ACCEPT: 'redis-persistence' }));
    const viaOption = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: REDIS_URL }), { accept: ['redis-persistence'] });
    for (const report of [accepted, viaOption]) {
      const persistence = check(report, 'redis-persistence');
      if (appendonly === 'yes') {
        expect(persistence.status).toBe('ok');
      } else {
        expect(persistence).toMatchObject({ status: 'warn', data: { appendonly: 'no', accepted: true } });
        expect(persistence.detail).toMatch(/^accepted \(BUILDFLOW_ACCEPT or --accept\): Redis appendonly is off/);
      }
    }
    expect(() => loadConfig({ BUILDFLOW_ACCEPT: 'stock-reconciliation' }, {})).toThrow(/BUILDFLOW_ACCEPT: "stock-reconciliation" cannot be accepted \(acceptable: redis-persistence, redis-eviction\)/);
  });

  it('when CONFIG is refused, then the settings come from INFO, and when INFO is refused too, they warn "cannot read"', async () => {
    const admin = new Redis(REDIS_URL);
    const user = `buildflow-doctor-test-${randomBytes(4).toString('hex')}`;
    const infoOnly = `${user}-info`;
    cleanups.push(async () => {
      await admin.call('ACL', 'DELUSER', user, infoOnly);
      admin.disconnect();
    });
    // A managed Redis in miniature: CONFIG is not allowed (and for the second user, INFO neither).
    await admin.call('ACL', 'SETUSER', infoOnly, 'on', '>pw', '~*', '&*', '+@all', '-config');
    await admin.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-config', '-info');
    const { appendonly, policy } = await serverSettings();
    app = await openTestApp();

    const viaInfo = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: `redis://${infoOnly}:pw@127.0.0.1:6379` }));
    expect(check(viaInfo, 'redis').detail).not.toContain('pw@');
    expect(check(viaInfo, 'redis-persistence')).toMatchObject({
      status: appendonly === 'yes' ? 'ok' : 'fail',
      data: { appendonly, source: 'INFO persistence' },
    });
    expect(check(viaInfo, 'redis-eviction')).toMatchObject({
      status: policy === 'noeviction' ? 'ok' : 'fail',
      data: { 'maxmemory-policy': policy, source: 'INFO memory' },
    });

    const blind = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: `redis://${user}:pw@127.0.0.1:6379` }));
    expect(check(blind, 'redis').status).toBe('ok');
    for (const name of ['redis-persistence', 'redis-eviction'] as const) {
      expect(check(blind, name).status).toBe('warn');
      expect(check(blind, name).detail).toMatch(/^cannot read Redis .* \(CONFIG GET refused: NOPERM.*; INFO \w+ refused: NOPERM.*\): make sure/);
    }
  });

  it('when Redis cannot be reached, then redis fails quickly and its settings are skipped', async () => {
    app = await openTestApp();
    const started = Date.now();
    const report = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(check(report, 'redis')).toMatchObject({
      status: 'fail',
      detail: 'cannot connect to Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (check BUILDFLOW_REDIS_URL and that Redis is up)',
    });
    expect(check(report, 'redis-persistence')).toMatchObject({ status: 'skip', detail: 'skipped: there is no connection to Redis' });
    expect(check(report, 'database').status).toBe('ok'); // the database side is still reported
    expect(report.healthy).toBe(false);
  });

  it('when the Redis port accepts but never answers, then redis fails at the bound', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    app = await openTestApp();
    const started = Date.now();
    const report = await runDoctor(configOf(app, { BUILDFLOW_REDIS_URL: `redis://127.0.0.1:${silent.port}` }), { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(check(report, 'redis')).toMatchObject({ status: 'fail' });
    expect(check(report, 'redis').detail).toMatch(/did not answer within 500 ms/);
  });
});
