import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, runCli, startCli, startServer, tempDir, type RunningProcess } from '../cli/harness.js';
import { BACKENDS, TEST_REDIS_URL, deleteRedisKeys, freshPostgresDatabase, freshRedisPrefix, usesPostgres, usesRedis, type Backend } from '../helpers/backends.js';
import { family, parseExposition, sampleValue, type MetricFamily } from '../helpers/prometheus.js';
import { loadConfig } from '../../src/core/config.js';
import { openBuildflow } from '../../src/core/buildflow.js';
import { upsertProduct } from '../../src/core/catalog/products.js';

const ADMIN_KEY = 'e2e-metrics-admin-key-0123456789';
const METRICS_KEY = 'e2e-metrics-scrape-key-0123456789';
const TOKEN_SECRET = 'e2e-token-secret-Qw8#zX1!mN4$vB7%cL0^';
const PASSWORD = 'e2e correct horse battery';

interface Cell {
  serve: RunningProcess & { url: string };
  worker: RunningProcess;
  metricsUrl: string;
  close(): Promise<void>;
}

/** A deployment of real processes for one backend cell: `serve --no-worker` and `worker --metrics-port`. */
async function openCell(backend: Backend): Promise<Cell> {
  const tmp = tempDir('buildflow-metrics-');
  const database = usesPostgres(backend) ? await freshPostgresDatabase() : undefined;
  const redis = usesRedis(backend) ? freshRedisPrefix() : undefined;
  const env: Record<string, string> = {
    BUILDFLOW_ADMIN_KEY: ADMIN_KEY,
    BUILDFLOW_METRICS_KEY: METRICS_KEY,
    BUILDFLOW_TOKEN_SECRET: TOKEN_SECRET,
    BUILDFLOW_LOG_LEVEL: 'debug',
    ...(database ? { BUILDFLOW_DATABASE_URL: database.url } : {}),
    ...(redis ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: redis.prefix } : {}),
  };
  const seed = await openBuildflow(loadConfig({ ...env, BUILDFLOW_DATA_DIR: tmp.dir }, {}), { migrate: true });
  await upsertProduct(seed.units, { sku: 'LOTS', name: 'Lots', category: 'test', unitPriceCents: 250, onHand: 1000 });
  await upsertProduct(seed.units, { sku: 'FEW', name: 'Few', category: 'test', unitPriceCents: 990, onHand: 2 });
  await seed.close();
  const processes: RunningProcess[] = [];
  try {
    const serve = await startServer(tmp.dir, ['--no-worker'], env);
    processes.push(serve);
    const port = await freePort();
    const worker = startCli(['worker', '--data-dir', tmp.dir, '--metrics-port', String(port)], env);
    processes.push(worker);
    await worker.waitForOutput('buildflow worker ready');
    return {
      serve,
      worker,
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      async close() {
        try {
          for (const p of processes) if (p.child.exitCode === null) await p.stop();
          await database?.drop();
          if (redis) await deleteRedisKeys(redis.prefix);
        } finally {
          tmp.remove();
        }
      },
    };
  } catch (err) {
    for (const p of processes) await p.stop();
    await database?.drop();
    if (redis) await deleteRedisKeys(redis.prefix);
    tmp.remove();
    throw err;
  }
}

async function api(url: string, path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      authorization: `Bearer ${init.token ?? ADMIN_KEY}`,
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

async function scrape(url: string, key: string): Promise<MetricFamily[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** Every line of a process's stderr, parsed; a line that is not JSON fails the test, naming it. */
function logLines(p: RunningProcess): Record<string, any>[] {
  const text = p.output().stderr;
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        throw new Error(`log line is not JSON: ${l}`);
      }
    });
}

const FINAL_MESSAGES = ['order confirmed', 'order cancelled', 'order cancelled and compensated: its pipeline work failed'];

for (const backend of BACKENDS) {
  describe(`metrics and logs of real processes on ${backend}`, () => {
    let cell: Cell | undefined;
    beforeAll(async () => {
      assertBuilt();
      cell = await openCell(backend);
    });
    afterAll(async () => cell?.close());

    it('when N orders went through serve and a worker, then both expositions parse, the counters add up to N, the gauges match the snapshot, and every log line is JSON with its fields and no credential', { timeout: 120_000 }, async () => {
      const { serve, worker, metricsUrl } = cell!;
      const url = serve.url;
      expect((await fetch(metricsUrl)).status).toBe(401);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);

      const email = `metrics-${Date.now()}@example.com`;
      expect((await api(url, '/v1/customers', { method: 'POST', body: { email, name: 'Metrics', password: PASSWORD }, token: 'x' })).status).toBe(401); // a bad bearer is refused even here
      const signup = await fetch(`${url}/v1/customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, name: 'Metrics', password: PASSWORD }) });
      expect(signup.status).toBe(201);
      const signin = await fetch(`${url}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
      const { token } = (await signin.json()) as { token: string };

      // 8 orders that confirm, 4 racing for 2 units (2 out of stock), 1 by the customer, 1 through the CLI with --wait.
      const placed: string[] = [];
      for (let i = 0; i < 8; i++) placed.push((await api(url, '/v1/orders', { method: 'POST', body: { items: [{ sku: 'LOTS', quantity: 1 }] } })).body.id);
      for (let i = 0; i < 4; i++) placed.push((await api(url, '/v1/orders', { method: 'POST', body: { items: [{ sku: 'FEW', quantity: 1 }] } })).body.id);
      const traced = await api(url, '/v1/orders', { method: 'POST', body: { items: [{ sku: 'LOTS', quantity: 2 }] }, token, headers: { 'x-request-id': 'e2e-trace-1' } });
      expect(traced.headers.get('x-request-id')).toBe('e2e-trace-1');
      placed.push(traced.body.id);
      const waited = await runCli(['order', 'create', '--item', 'LOTS:1', '--wait', '--json', '--url', url], { env: { BUILDFLOW_ADMIN_KEY: ADMIN_KEY } });
      expect(waited.code, waited.stderr).toBe(0);
      placed.push(JSON.parse(waited.stdout).id);
      const N = placed.length;

      // Until every order is final and the outbox is drained (notify steps run after confirmation).
      const deadline = Date.now() + 60_000;
      let serveMetrics: MetricFamily[];
      let workerMetrics: MetricFamily[];
      for (;;) {
        const statuses = await Promise.all(placed.map(async (id) => (await api(url, `/v1/orders/${id}`)).body.status as string));
        serveMetrics = await scrape(`${url}/metrics`, METRICS_KEY);
        workerMetrics = await scrape(metricsUrl, ADMIN_KEY);
        const settled = ['serve', 'worker'].map((_, i) => [serveMetrics, workerMetrics][i]!).reduce((n, f) => n + sampleValue(f, 'buildflow_orders_total', { outcome: 'confirmed' }) + sampleValue(f, 'buildflow_orders_total', { outcome: 'cancelled' }), 0);
        const pending = sampleValue(workerMetrics, 'buildflow_outbox_messages', { state: 'waiting' }) + sampleValue(workerMetrics, 'buildflow_outbox_messages', { state: 'active' }) + sampleValue(workerMetrics, 'buildflow_outbox_messages', { state: 'delayed' });
        if (statuses.every((s) => s === 'confirmed' || s === 'cancelled') && settled === N && pending === 0) break;
        if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(statuses)}, ${settled} settled in the metrics, ${pending} pending; worker: ${worker.output().stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }

      const both = (name: string, labels: Record<string, string>) => sampleValue(serveMetrics, name, labels) + sampleValue(workerMetrics, name, labels);
      expect(both('buildflow_orders_total', { outcome: 'placed' })).toBe(N);
      expect(sampleValue(serveMetrics, 'buildflow_orders_total', { outcome: 'placed' })).toBe(N); // intake is serve's
      expect(both('buildflow_orders_total', { outcome: 'confirmed' })).toBe(N - 2);
      expect(both('buildflow_orders_total', { outcome: 'cancelled', reason: 'out_of_stock' })).toBe(2);
      expect(sampleValue(workerMetrics, 'buildflow_order_e2e_duration_seconds')).toBe(N - 2);
      expect(sampleValue(workerMetrics, 'buildflow_step_attempts_total', { step: 'reserve', outcome: 'done' })).toBe(N);
      expect(sampleValue(serveMetrics, 'buildflow_http_request_duration_seconds', { method: 'POST', route: '/v1/orders', status_code: '201' })).toBe(N);
      for (const f of [serveMetrics, workerMetrics]) expect(family(f, 'buildflow_build_info').series[0]!.labels.backend).toBe(backend);
      expect(families(workerMetrics)).toContain('buildflow_nodejs_eventloop_lag_seconds');

      // The deployment gauges of both processes say what the dashboard's snapshot says.
      const snapshot = (await api(url, '/v1/admin/stats')).body;
      for (const f of [serveMetrics, workerMetrics]) {
        expect(sampleValue(f, 'buildflow_dead_letters')).toBe(snapshot.topics.reduce((n: number, t: { dead: number }) => n + t.dead, 0));
        expect(sampleValue(f, 'buildflow_orders_stuck')).toBe(snapshot.orders.stuck.count.count);
        expect(sampleValue(f, 'buildflow_workers', { state: 'alive' })).toBe(snapshot.workers.filter((w: { state: string }) => w.state === 'alive').length);
        for (const t of snapshot.topics) for (const state of ['waiting', 'delayed', 'active', 'dead']) expect(sampleValue(f, 'buildflow_outbox_messages', { topic: t.topic, state })).toBe(t[state]);
      }
      expect(sampleValue(workerMetrics, 'buildflow_workers', { state: 'alive' })).toBe(1);
      expect(families(workerMetrics).includes('buildflow_relay_lag_seconds')).toBe(usesRedis(backend));

      expect(await serve.stop()).toBe(0);
      expect(await worker.stop()).toBe(0);

      const serveLines = logLines(serve);
      const workerLines = logLines(worker);
      for (const line of [...serveLines, ...workerLines]) {
        expect(line, JSON.stringify(line)).toMatchObject({ level: expect.any(Number), time: expect.any(Number), pid: expect.any(Number), msg: expect.any(String) });
      }
      const requests = serveLines.filter((l) => l.msg === 'request');
      for (const r of requests) expect(r, JSON.stringify(r)).toMatchObject({ reqId: expect.any(String), method: expect.any(String), path: expect.any(String), statusCode: expect.any(Number), durationMs: expect.any(Number) });
      expect(requests.filter((r) => r.method === 'POST' && r.route === '/v1/orders' && r.statusCode === 201)).toHaveLength(N);
      expect(requests.find((r) => r.reqId === 'e2e-trace-1')).toMatchObject({ method: 'POST', route: '/v1/orders', statusCode: 201, level: 30 });
      // --wait polls the order: successful reads are debug, so info shows the orders, not the polling.
      const reads = requests.filter((r) => r.method === 'GET' && r.route === '/v1/orders/:id' && r.statusCode === 200);
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((r) => r.level === 20)).toBe(true);
      expect(requests.filter((r) => r.statusCode === 401).every((r) => r.level === 30)).toBe(true);

      const finals = [...serveLines, ...workerLines].filter((l) => FINAL_MESSAGES.includes(l.msg));
      expect(finals).toHaveLength(N);
      for (const f of finals) {
        expect(f, JSON.stringify(f)).toMatchObject({ orderId: expect.any(String), reference: expect.stringMatching(/^BF-/), status: expect.stringMatching(/^(confirmed|cancelled)$/), total: expect.stringMatching(/^\d+\.\d\d$/), sincePlacedMs: expect.any(Number), topic: expect.any(String), messageId: expect.any(Number), attempt: expect.any(Number) });
        expect('reason' in f).toBe(true);
      }
      expect(new Set(finals.map((f) => f.orderId))).toEqual(new Set(placed));
      expect(finals.filter((f) => f.status === 'cancelled').map((f) => f.reason)).toEqual(['out_of_stock', 'out_of_stock']);
      for (const l of workerLines.filter((x) => x.topic !== undefined && x.messageId !== undefined)) expect(l, JSON.stringify(l)).toMatchObject({ orderId: expect.any(String), attempt: expect.any(Number) });

      const everything = [serve, worker].map((p) => p.output().stdout + p.output().stderr).join('\n');
      for (const secret of [ADMIN_KEY, METRICS_KEY, TOKEN_SECRET, PASSWORD, token]) expect(everything.includes(secret), `${secret.slice(0, 6)}… in the logs`).toBe(false);
    });
  });
}

function families(f: MetricFamily[]): string[] {
  return f.map((x) => x.name);
}

describe.skipIf(!BACKENDS.includes('sqlite'))('buildflow worker --metrics-port', () => {
  it('when the metrics port is in use, then the worker exits 8 with one line on stderr', async () => {
    assertBuilt();
    const tmp = tempDir('buildflow-metrics-port-');
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const r = await runCli(['worker', '--data-dir', tmp.dir, '--metrics-port', String(port)]);
      expect(r.code).toBe(8);
      expect(r.stderr).toBe(`error: cannot serve metrics on 127.0.0.1:${port}: the address is already in use\n`);
      expect(r.stdout).toBe('');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      tmp.remove();
    }
  });
});
