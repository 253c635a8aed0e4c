import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/core/db/unavailable.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { buildServer } from '../../src/server/build-server.js';
import { BACKENDS, TEST_POSTGRES_URL, freshPostgresDatabase } from '../helpers/backends.js';
import { ADMIN, ADMIN_KEY } from '../helpers/server.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';

// "A Postgres connection dropped → requests fail with 503 (not 500) and the pool recovers without
// a restart." This file picks its backends itself (Postgres, directly or through a TCP proxy it
// can cut, and an address where nothing listens), so it runs once: in the default project, not
// again in a project that sets the HTTP suites' backend.
const runs = BACKENDS.includes('postgres') && (process.env.BUILDFLOW_TEST_SERVER_BACKEND ?? 'sqlite') === 'sqlite';

const SKU = 'FAULT-1';
const POOL_MAX = 4;

interface Response {
  statusCode: number;
  body: string;
  data: any;
}

interface Server {
  app: TestApp;
  server: FastifyInstance;
  request(options: InjectOptions): Promise<Response>;
  dispose(): Promise<void>;
}

async function serve(app: TestApp): Promise<Server> {
  const server = await buildServer(app, { adminKey: ADMIN_KEY });
  await server.ready();
  return {
    app,
    server,
    async request(options) {
      const res = await server.inject(options);
      const type = String(res.headers['content-type'] ?? '');
      return { statusCode: res.statusCode, body: res.body, data: type.startsWith('application/json') ? res.json() : undefined };
    },
    async dispose() {
      await server.close();
      await app.dispose();
    },
  };
}

// The kinds of request the issue names: a public read, an admin write (order intake), readiness;
// each with its status when the database answers and, for the in-flight cases, the table it reads.
const getProduct: InjectOptions = { url: `/v1/products/${SKU}` };
const placeOrder: InjectOptions = { method: 'POST', url: '/v1/orders', headers: ADMIN, payload: { items: [{ sku: SKU, quantity: 1 }] } };
const readyz: InjectOptions = { url: '/readyz' };
const REQUESTS: { name: string; options: InjectOptions; ok: number; reads: string }[] = [
  { name: 'GET /v1/products/:sku', options: getProduct, ok: 200, reads: 'products' },
  { name: 'POST /v1/orders', options: placeOrder, ok: 201, reads: 'products' },
  { name: 'GET /readyz', options: readyz, ok: 200, reads: 'kysely_migration' },
];

/** A 503 in the one error format, with nothing of the driver's error in it. */
function expectUnavailable(res: Response, label = ''): void {
  expect(res.statusCode, `${label} ${res.body}`).toBe(503);
  expect(res.data).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
  expect(res.body).not.toMatch(/terminat|ECONN|57P0|127\.0\.0\.1|stack|\bat /);
}

/** Success, or a 503 UNAVAILABLE: never a 500. */
function expectOkOrUnavailable(res: Response, ok: number, label: string): void {
  if (res.statusCode !== ok) expectUnavailable(res, label);
}

/** Every kind of request succeeds again, on its first try: the pool replaced its dead clients. */
async function expectServing(t: Server): Promise<void> {
  for (const { name, options, ok } of REQUESTS) {
    const res = await t.request(options);
    expect(res.statusCode, `${name}: ${res.body}`).toBe(ok);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fills the pool with idle connections. */
async function warmPool(t: Server): Promise<void> {
  await Promise.all(Array.from({ length: POOL_MAX }, () => t.request(getProduct)));
}

/** The name of the database a URL points at. */
const databaseOf = (url: string) => new URL(url).pathname.slice(1);

let admin: pg.Client;

/** Connections to `database` other than the admin's and `exceptPid`'s. */
async function connectionsTo(database: string, exceptPid = 0): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and pid <> $2',
    [database, exceptPid],
  );
  return rows[0]!.n;
}

/**
 * Runs `options` while another connection holds an exclusive lock on `table`, so the request's
 * query is certainly in flight (waiting for the lock) when `fault` strikes; then releases the lock
 * and returns the answer.
 */
async function requestInFlight(t: Server, lockUrl: string, options: InjectOptions, table: string, fault: (lockerPid: number) => Promise<void>): Promise<Response> {
  const locker = new pg.Client({ connectionString: lockUrl });
  await locker.connect();
  try {
    const { rows } = await locker.query<{ pid: number }>('select pg_backend_pid() as pid');
    const lockerPid = rows[0]!.pid;
    await locker.query('begin');
    await locker.query(`lock table ${table} in access exclusive mode`);
    const pending = t.request(options);
    for (let i = 0; ; i++) {
      const { rows: waiting } = await admin.query(
        "select 1 from pg_stat_activity where datname = $1 and pid <> $2 and wait_event_type = 'Lock'",
        [databaseOf(lockUrl), lockerPid],
      );
      if (waiting.length > 0) break;
      if (i > 500) throw new Error(`${String(options.url)}: no query waited for the lock on ${table}`);
      await sleep(10);
    }
    await fault(lockerPid);
    await locker.query('rollback');
    return await pending;
  } finally {
    await locker.end();
  }
}

if (runs) {
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
  });
}

describe.skipIf(!runs)('a Postgres connection terminated by the server (pg_terminate_backend)', () => {
  let t: Server;
  let database: string;

  /**
   * Terminates the server's connections (all but `exceptPid`); returns how many. Without `waitMs`
   * it only signals the backends, so the server may still send a query on a connection before it
   * learns that it ends; with it, it waits until they have exited.
   */
  async function terminate(exceptPid = 0, waitMs = 0): Promise<number> {
    const { rows } = await admin.query<{ ok: boolean }>(
      'select pg_terminate_backend(pid, $3) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and pid <> $2',
      [database, exceptPid, waitMs],
    );
    return rows.filter((r) => r.ok).length;
  }

  beforeAll(async () => {
    t = await serve(await openTestApp({ BUILDFLOW_DATABASE_POOL_MAX: POOL_MAX }, {}, 'postgres'));
    database = databaseOf(t.app.config.databaseUrl!);
    await addProduct(t.app, SKU, 1_000_000);
  });
  // Closes the pool, then drops the database (with force).
  afterAll(async () => t?.dispose());

  it('when the pooled connections are terminated while idle, then requests right after answer 503 UNAVAILABLE or succeed, never 500', async () => {
    await warmPool(t);
    expect(await terminate()).toBeGreaterThan(0);
    // pg reports the backend's FATAL 57P01 to a query sent before the connection's end was read.
    const answers = await Promise.all(REQUESTS.map(({ options }) => t.request(options)));
    answers.forEach((res, i) => expectOkOrUnavailable(res, REQUESTS[i]!.ok, REQUESTS[i]!.name));
  });

  it('when a connection is terminated while its query runs, then that request answers 503 UNAVAILABLE, and the next ones succeed', async () => {
    for (const { name, options, reads } of REQUESTS) {
      await warmPool(t);
      const res = await requestInFlight(t, t.app.config.databaseUrl!, options, reads, async (lockerPid) => {
        expect(await terminate(lockerPid, 5000)).toBeGreaterThan(0);
      });
      expectUnavailable(res, name);
      // The idle connections were terminated too; once the server has read that, none is handed out.
      await sleep(50);
      await expectServing(t);
    }
  });

  it('when every connection was terminated, then requests succeed again without a restart', async () => {
    await warmPool(t);
    expect(await terminate()).toBeGreaterThan(0);
    for (let i = 0; (await connectionsTo(database)) > 0; i++) {
      if (i > 500) throw new Error('the terminated backends did not exit');
      await sleep(10);
    }
    await sleep(50);
    await expectServing(t);
    const order = await t.request(placeOrder);
    expect(order.statusCode).toBe(201);
    expect((await t.request({ url: `/v1/orders/${order.data.id}`, headers: ADMIN })).statusCode).toBe(200);
  });
});

/** A TCP proxy in front of Postgres whose open connections the test can cut. */
async function tcpProxy(target: URL): Promise<{ port: number; cut(how: 'close' | 'reset'): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) s.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut(how) {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        // 'close' ends the server's side with a FIN, 'reset' with an RST; Postgres sees its client go.
        if (how === 'reset') pair[0].resetAndDestroy();
        else pair[0].destroy();
        pair[1].destroy();
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(!runs)('a Postgres connection dropped on the network', () => {
  let t: Server;
  let database: { url: string; drop(): Promise<void> };
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;

  beforeAll(async () => {
    database = await freshPostgresDatabase();
    proxy = await tcpProxy(new URL(database.url));
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    t = await serve(await openTestApp({ BUILDFLOW_DATABASE_URL: viaProxy.toString(), BUILDFLOW_DATABASE_POOL_MAX: POOL_MAX }));
    await addProduct(t.app, SKU, 1_000_000);
  });
  afterAll(async () => {
    await t?.dispose();
    await proxy?.close();
    await database?.drop();
  });

  for (const how of ['close', 'reset'] as const) {
    it(`when the connections are cut (${how}) while a query runs, then that request answers 503 UNAVAILABLE, and the next ones succeed`, async () => {
      for (const { name, options, reads } of REQUESTS) {
        // The lock is taken directly, not through the proxy, so the cut spares it.
        await warmPool(t);
        expectUnavailable(await requestInFlight(t, database.url, options, reads, async () => proxy.cut(how)), `${how} ${name}`);
        await sleep(50);
        await expectServing(t);
      }
    });

    it(`when idle pooled connections are cut (${how}), then the next requests answer 503 UNAVAILABLE or succeed, and then succeed`, async () => {
      await warmPool(t);
      proxy.cut(how);
      const answers = await Promise.all(REQUESTS.map(({ options }) => t.request(options)));
      answers.forEach((res, i) => expectOkOrUnavailable(res, REQUESTS[i]!.ok, `${how} ${REQUESTS[i]!.name}`));
      await sleep(50);
      await expectServing(t);
    });
  }
});

describe.skipIf(!runs)('Postgres unreachable', () => {
  let t: Server | undefined;
  const none = () => Promise.reject(new Error('no payments in this test'));
  const noGateway: PaymentGateway = { authorize: none, capture: none, void: none, refund: none };

  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });

  it('when nothing listens at the database address, then data routes answer 503 UNAVAILABLE, /readyz is not ready and /healthz is live', async () => {
    // Port 1: every connection attempt is refused at once. Opening must not touch the database:
    // no migrations, no simulated provider's table.
    t = await serve(await openTestApp({ BUILDFLOW_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/buildflow' }, { migrate: false, gateway: noGateway }));
    for (const options of [getProduct, placeOrder, { url: '/v1/products' }, { url: '/v1/orders', headers: ADMIN }]) {
      expectUnavailable(await t.request(options), String(options.url));
    }
    const ready = await t.request(readyz);
    expectUnavailable(ready, 'readyz');
    expect(ready.data.error.message).toBe('the database does not answer');
    expect((await t.request({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('isDatabaseUnavailable', () => {
  const sys = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'ERROR' });

  it('recognises connection failures of pg, the socket and SQLite', () => {
    for (const err of [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P02'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006'),
      pgError('08P01'),
      pgError('53300', 'sorry, too many clients already'),
      sys('ECONNREFUSED'),
      sys('ECONNRESET'),
      sys('ETIMEDOUT'),
      Object.assign(new AggregateError([sys('ECONNREFUSED'), sys('ECONNREFUSED')]), { code: 'ECONNREFUSED' }),
      new AggregateError([sys('ECONNREFUSED')]),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' }),
    ]) {
      expect(isDatabaseUnavailable(err), String((err as Error).message)).toBe(true);
    }
  });

  it('leaves every other failure alone', () => {
    for (const err of [
      new Error('boom'),
      new Error('Connection terminated unexpectedly: or so a message says'),
      Object.assign(new Error('Connection terminated unexpectedly'), { code: 'SOMETHING_ELSE' }),
      pgError('23505', 'duplicate key value violates unique constraint'),
      pgError('42P01', 'relation "nope" does not exist'),
      pgError('40001', 'could not serialize access'),
      Object.assign(new Error('constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      Object.assign(new Error('x'), { code: 8006 }),
      'ECONNREFUSED',
      null,
      undefined,
    ]) {
      expect(isDatabaseUnavailable(err), String(err)).toBe(false);
    }
  });
});
