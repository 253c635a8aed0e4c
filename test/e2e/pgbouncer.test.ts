import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { CLI_ADMIN_KEY, assertBuilt, hasStackTrace, runCli, startCli, startServer, tempDir, type RunningProcess } from '../cli/harness.js';
import { BACKENDS, TEST_REDIS_URL, freshPostgresDatabase, freshRedisPrefix } from '../helpers/backends.js';
import { stopWithin } from '../helpers/cell-storage.js';
import { pgbouncerCell, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import type { Database } from '../../src/core/db/schema.js';

// The pooler stands in front of the postgres+redis cell's servers; `npm test` ends saying whether it ran.
const runs = pgbouncerCell && BACKENDS.includes('postgres+redis');

type FreshDatabase = Awaited<ReturnType<typeof freshPostgresDatabase>>;

/** Everything one test made: the pooler, databases, key prefixes, processes, a temp dir. */
class Owned {
  poolers: PgBouncer[] = [];
  databases: FreshDatabase[] = [];
  prefixes: ReturnType<typeof freshRedisPrefix>[] = [];
  processes: RunningProcess[] = [];
  readers: Kysely<Database>[] = [];
  tmp = tempDir('buildflow-pgbouncer-e2e-');

  async close(): Promise<void> {
    try {
      await Promise.all(this.processes.map((p) => stopWithin(p, 15_000)));
      await Promise.all(this.readers.map((r) => r.destroy()));
      await Promise.all(this.poolers.map((p) => p.close()));
      await Promise.all(this.databases.map((d) => d.drop()));
      await Promise.all(this.prefixes.map((p) => p.drop()));
    } finally {
      this.tmp.remove();
    }
  }
}

describe.skipIf(!runs)('every command through PgBouncer in transaction mode (max_prepared_statements at its default, 0)', () => {
  // Made in beforeAll: a skipped suite's body still runs, and would leave the temp dir behind.
  let owned: Owned;
  beforeAll(() => {
    assertBuilt();
    owned = new Owned();
  });
  afterAll(() => owned?.close());

  it('when prepared statements are on, then the command that meets another client\'s statement fails with a message naming the setting', async () => {
    // One server connection: the second client's first named statement lands where the first one's lives.
    const pooler = await startPgBouncer({ poolSize: 1 });
    owned.poolers.push(pooler);
    const database = await freshPostgresDatabase();
    owned.databases.push(database);
    const env = { BUILDFLOW_DATABASE_URL: pooler.url(database.url), BUILDFLOW_DATA_DIR: `${owned.tmp.dir}/on` };

    expect((await runCli(['migrate'], { env })).code).toBe(0);
    const seed = await runCli(['seed'], { env });
    expect(seed.code).not.toBe(0);
    expect(seed.stderr).toContain('set BUILDFLOW_DATABASE_PREPARED_STATEMENTS=off');
    expect(seed.stderr.trim().split('\n')).toHaveLength(1);
    expect(hasStackTrace(seed.stderr)).toBe(false);
  });

  it('when several processes migrate a new database through it at once, then all succeed and no migration lock stays held on a server connection', { timeout: 60_000 }, async () => {
    const pooler = await startPgBouncer({ poolSize: 3 });
    owned.poolers.push(pooler);
    const database = await freshPostgresDatabase();
    owned.databases.push(database);
    const env = { BUILDFLOW_DATABASE_URL: pooler.url(database.url), BUILDFLOW_DATABASE_PREPARED_STATEMENTS: 'off', BUILDFLOW_DATA_DIR: `${owned.tmp.dir}/migrate` };

    const runs = await Promise.all([1, 2, 3].map(() => runCli(['migrate', '--json'], { env })));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    // Read past the pooler: its idle server connections are where a leaked session lock would sit.
    const reader = openPostgres<Database>(database.url, { max: 1 });
    owned.readers.push(reader);
    const held = await sql<{ n: number }>`select count(*) as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = current_database()`.execute(reader);
    expect(held.rows[0]!.n).toBe(0);
  });

  it('when prepared statements are off, then migrate, seed, serve --no-worker, worker, doctor, dead-letters, dashboard and loadtest all work through it', { timeout: 120_000 }, async () => {
    const pooler = await startPgBouncer();
    owned.poolers.push(pooler);
    const database = await freshPostgresDatabase();
    owned.databases.push(database);
    const redis = freshRedisPrefix();
    owned.prefixes.push(redis);
    const env = {
      BUILDFLOW_DATABASE_URL: pooler.url(database.url),
      BUILDFLOW_DATABASE_PREPARED_STATEMENTS: 'off',
      BUILDFLOW_REDIS_URL: TEST_REDIS_URL,
      BUILDFLOW_REDIS_PREFIX: redis.prefix,
      BUILDFLOW_DATA_DIR: `${owned.tmp.dir}/off`,
      BUILDFLOW_LOG_LEVEL: 'warn',
    };

    const migrate = await runCli(['migrate'], { env });
    expect(migrate).toMatchObject({ code: 0 });
    const seed = await runCli(['seed'], { env });
    expect(seed.stderr).toBe('');
    expect(seed.code).toBe(0);

    const reader = openPostgres<Database>(database.url, { max: 1 });
    owned.readers.push(reader);
    const product = await reader.selectFrom('products').select(['sku', 'on_hand']).orderBy('on_hand', 'desc').executeTakeFirstOrThrow();

    const server = await startServer(`${owned.tmp.dir}/serve`, ['--no-worker'], env);
    owned.processes.push(server);
    owned.processes.push(startCli(['worker', '--data-dir', `${owned.tmp.dir}/worker`], env));
    const ORDERS = 30;
    expect(product.on_hand).toBeGreaterThanOrEqual(ORDERS);
    const placed = await Promise.all(
      Array.from({ length: ORDERS }, async (_, i) => {
        const res = await fetch(`${server.url}/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `pgb-${i}`, authorization: `Bearer ${CLI_ADMIN_KEY}` },
          body: JSON.stringify({ items: [{ sku: product.sku, quantity: 1 }] }),
        });
        return res.status;
      }),
    );
    expect(placed).toEqual(Array(ORDERS).fill(201));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const open = await reader.selectFrom('orders').select('id').where('status', 'not in', ['confirmed', 'cancelled']).execute();
      if (open.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${open.length} orders not final through the pooler`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await reader.selectFrom('orders').select('id').where('status', '=', 'confirmed').execute()).toHaveLength(ORDERS);

    const doctor = await runCli(['doctor', '--json'], { env });
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
    const status = Object.fromEntries(checks.map((c) => [c.name, c.status]));
    // Redis persistence and eviction depend on the test Redis's own settings, not on the pooler.
    expect(status).toMatchObject({ database: 'ok', migrations: 'ok', 'outbox-backlog': 'ok', 'stuck-orders': 'ok', 'stock-reconciliation': 'ok', redis: 'ok' });

    const deadLetters = await runCli(['dead-letters', 'list', '--json'], { env });
    expect(deadLetters.code).toBe(0);
    expect(JSON.parse(deadLetters.stdout)).toEqual([]);

    const dashboard = await runCli(['dashboard', '--json', '--url', server.url, '--token', CLI_ADMIN_KEY], { env });
    expect(dashboard.code).toBe(0);
    expect(JSON.stringify(JSON.parse(dashboard.stdout))).toContain('confirmed');

    // loadtest starts its own deployment on the database it is given: a second one, through the pooler.
    const loadDb = await freshPostgresDatabase();
    owned.databases.push(loadDb);
    const loadtest = await runCli(['loadtest', '--backend', 'postgres+redis', '--duration', '2s', '--warmup', '1s', '--connections', '4', '--json'], {
      env: { ...env, BUILDFLOW_DATABASE_URL: pooler.url(loadDb.url) },
    });
    expect(loadtest.stderr.slice(-2000)).not.toMatch(/prepared statement|unsupported startup parameter/);
    expect(loadtest.code).toBe(0);
  });
});
