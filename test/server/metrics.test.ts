import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import type { StatsSnapshot } from '../../src/core/stats/snapshot-types.js';
import { StatsService } from '../../src/core/stats/stats-service.js';
import { signUp } from '../helpers/customers.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { family, parseExposition, sampleValue, type MetricFamily } from '../helpers/prometheus.js';
import { ADMIN, openTestServer, type TestServer } from '../helpers/server.js';
import { addProduct } from '../helpers/test-app.js';
import { scriptedGateway } from '../helpers/payment-gateway.js';

const METRICS_KEY = 'metrics-scraper-key-0123456789';
// Prices that tell the test gateway what to do: 13.13 is declined, 17.17 makes the provider fail.
const DECLINED_CENTS = 1313;
const FAILING_CENTS = 1717;

const gateway: PaymentGateway = scriptedGateway(async (request) => {
  if (request.amountCents === FAILING_CENTS) throw new Error('provider unavailable');
  return { outcome: request.amountCents === DECLINED_CENTS ? 'declined' : 'authorized', providerRef: `ref-${request.idempotencyKey}` };
});

let t: TestServer;
// The gauges' snapshot source, recording the last snapshot it handed out, so a test compares the gauges with the very snapshot they came from.
let stats: StatsService | undefined;
let lastSnapshot: StatsSnapshot | undefined;
const source = { snapshot: async () => (lastSnapshot = await stats!.snapshot()) };

beforeAll(async () => {
  // One attempt: the failing charge is dead-lettered at once and its order compensated.
  t = await openTestServer({ BUILDFLOW_MAX_ATTEMPTS: 1 }, { metricsKey: METRICS_KEY, version: '9.9.9-test', stats: source });
  stats = new StatsService(t.app, { minIntervalMs: 0 });
  await addProduct(t.app, 'A', 5, 1000);
  await addProduct(t.app, 'D', 10, DECLINED_CENTS);
  await addProduct(t.app, 'F', 10, FAILING_CENTS);
});
afterAll(async () => {
  await stats?.close();
  await t?.dispose();
});

async function scrape(authorization = ADMIN.authorization): Promise<MetricFamily[]> {
  const res = await t.request({ url: '/metrics', headers: { authorization } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(res.body);
}

/** Scrapes until `check` holds (final states are reported just after their commit), at most 5 s. */
async function scrapeUntil(check: (f: MetricFamily[]) => boolean): Promise<MetricFamily[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const families = await scrape();
    if (check(families) || Date.now() > deadline) return families;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function outboxCount(topic: string, status: 'done' | 'dead'): Promise<number> {
  const row = await t.app.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('topic', '=', topic).where('status', '=', status).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('GET /metrics: credentials', () => {
  it('when no credentials are sent, then 401 in the error shape', async () => {
    const res = await t.request({ url: '/metrics' });
    expect(res.statusCode).toBe(401);
    expect(res.data.error.code).toBe('UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('when a customer token is sent, then 403; a wrong key answers 401', async () => {
    const customer = await signUp(t, 'scraper');
    expect((await t.as(customer.token, { url: '/metrics' })).statusCode).toBe(403);
    expect((await t.as('not-the-metrics-key-0123456789', { url: '/metrics' })).statusCode).toBe(401);
  });

  it('when the metrics key is sent, then /metrics answers, and the key opens nothing else', async () => {
    await scrape(`Bearer ${METRICS_KEY}`);
    expect((await t.as(METRICS_KEY, { url: '/v1/orders' })).statusCode).toBe(403);
    expect((await t.as(METRICS_KEY, { url: '/v1/customers' })).statusCode).toBe(403);
  });
});

describe('GET /metrics: what it exposes', () => {
  it('when scraped, then the exposition parses strictly and has build info and the process metrics', async () => {
    const families = await scrape();
    const backend = process.env.BUILDFLOW_TEST_SERVER_BACKEND ?? 'sqlite';
    expect(family(families, 'buildflow_build_info').series).toEqual([{ labels: { version: '9.9.9-test', backend }, value: 1 }]);
    for (const name of ['buildflow_process_cpu_user_seconds_total', 'buildflow_process_resident_memory_bytes', 'buildflow_nodejs_eventloop_lag_seconds', 'buildflow_nodejs_heap_size_used_bytes', 'buildflow_nodejs_gc_duration_seconds']) {
      expect(families.some((f) => f.name === name), name).toBe(true);
    }
    // Every family is ours, and no label names an order, customer, sku or key.
    for (const f of families) {
      expect(f.name.startsWith('buildflow_'), f.name).toBe(true);
      for (const s of f.series) for (const label of Object.keys(s.labels)) expect(['orderId', 'order', 'customer', 'sku', 'key', 'reference'], `${f.name} ${label}`).not.toContain(label);
    }
  });

  it('when the request histogram is read, then its buckets resolve a 1–20 ms intake', async () => {
    const histogram = family(await scrape(), 'buildflow_http_request_duration_seconds');
    const les = [...histogram.series[0]!.buckets!.keys()].filter((le) => le >= 0.001 && le <= 0.02);
    expect(les.length).toBeGreaterThanOrEqual(6);
  });
});

describe('GET /metrics: counters equal what happened', () => {
  it('when N orders went through the pipeline, then placed = N, confirmed + cancelled = N by reason, steps and durations match the outbox', async () => {
    const before = await scrape();
    const place = async (sku: string, headers: Record<string, string> = ADMIN) => {
      const res = await t.request({ method: 'POST', url: '/v1/orders', headers, payload: { items: [{ sku, quantity: 1 }] } });
      expect(res.statusCode, res.body).toBe(201);
      return res.data as { id: string };
    };
    for (let i = 0; i < 8; i++) await place('A'); // 5 confirmed, 3 out of stock
    for (let i = 0; i < 2; i++) await place('D'); // declined
    await place('F'); // the provider fails: dead letter, compensated, cancelled `failed`
    const customer = await signUp(t, 'canceller');
    const mine = await place('A', { authorization: `Bearer ${customer.token}` });
    expect((await t.as(customer.token, { method: 'POST', url: `/v1/orders/${mine.id}/cancel` })).statusCode).toBe(200);
    // A replayed idempotency key is not a new order.
    const key = { ...ADMIN, 'idempotency-key': 'metrics-replay-1' };
    await place('D', key);
    await place('D', key);
    const N = 13;

    await runUntilIdle(t.app, { gateway });
    const delta = (families: MetricFamily[], name: string, labels: Record<string, string>) => sampleValue(families, name, labels) - sampleValue(before, name, labels);
    const settled = (f: MetricFamily[]) => delta(f, 'buildflow_orders_total', { outcome: 'confirmed' }) + delta(f, 'buildflow_orders_total', { outcome: 'cancelled' });
    const after = await scrapeUntil((f) => settled(f) >= N);

    expect(delta(after, 'buildflow_orders_total', { outcome: 'placed' })).toBe(N);
    expect(settled(after)).toBe(N);
    expect(delta(after, 'buildflow_orders_total', { outcome: 'confirmed' })).toBe(5);
    expect(delta(after, 'buildflow_orders_total', { outcome: 'cancelled', reason: 'out_of_stock' })).toBe(3);
    expect(delta(after, 'buildflow_orders_total', { outcome: 'cancelled', reason: 'payment_declined' })).toBe(3);
    expect(delta(after, 'buildflow_orders_total', { outcome: 'cancelled', reason: 'failed' })).toBe(1);
    expect(delta(after, 'buildflow_orders_total', { outcome: 'cancelled', reason: 'customer_cancelled' })).toBe(1);
    expect(delta(after, 'buildflow_order_e2e_duration_seconds', {})).toBe(5);

    // One message carries each order through its steps, and a done message is deleted, so the
    // step runs are counted from the orders: all 13 went through reserve (9 reserved, 3 out of
    // stock, and the customer-cancelled one, whose message found it cancelled and ended); 8 were
    // authorized or declined at pay; 5 confirmed; no notify message exists any more. The failed
    // order's authorization was asked and never answered, so the message that settles its money
    // asks the provider again under the same key, fails as well, and (one attempt here) is
    // dead-lettered for an operator to re-drive. The dead letters are in the outbox.
    const done = { reserve: 13, pay: 8, confirm: 5, notify: 0, refund: 0 };
    for (const [step, n] of Object.entries(done)) {
      expect(delta(after, 'buildflow_step_attempts_total', { step, outcome: 'done' }), step).toBe(n);
      expect(delta(after, 'buildflow_step_attempts_total', { step, outcome: 'dead' }), step).toBe(await outboxCount(step, 'dead'));
      expect(delta(after, 'buildflow_step_duration_seconds', { step }), step).toBe(delta(after, 'buildflow_step_attempts_total', { step }));
    }
    expect(delta(after, 'buildflow_step_attempts_total', { step: 'pay', outcome: 'dead' })).toBe(1);
    expect(delta(after, 'buildflow_step_attempts_total', { step: 'refund', outcome: 'dead' })).toBe(1);
    expect(delta(after, 'buildflow_http_request_duration_seconds', { method: 'POST', route: '/v1/orders', status_code: '201' })).toBe(N + 1);

    // Money by kind and outcome: 5 orders of 10.00 authorized and captured; 3 of 13.13 declined;
    // the failing provider's authorization never answered, so it is counted nowhere. Each series
    // also equals the sum over the payment ledger.
    const money = (kind: string, outcome: string) => delta(after, 'buildflow_money_cents_total', { kind, outcome });
    expect(money('authorize', 'succeeded')).toBe(5 * 1000);
    expect(money('authorize', 'failed')).toBe(3 * DECLINED_CENTS);
    expect(money('capture', 'succeeded')).toBe(5 * 1000);
    expect(money('capture', 'failed') + money('void', 'succeeded') + money('void', 'failed') + money('refund', 'succeeded') + money('refund', 'failed')).toBe(0);
    const ledger = await t.app.db
      .selectFrom('payment_ledger')
      .select(['kind', 'status', (eb) => eb.fn.sum<number>('amount_cents').as('cents')])
      .where('status', '<>', 'pending')
      .groupBy(['kind', 'status'])
      .execute();
    const calls = { authorization: 'authorize', capture: 'capture', void: 'void', refund: 'refund' } as const;
    for (const kind of Object.keys(calls) as (keyof typeof calls)[]) {
      for (const outcome of ['succeeded', 'failed']) {
        const cents = Number(ledger.find((r) => r.kind === kind && r.status === outcome)?.cents ?? 0);
        expect(sampleValue(after, 'buildflow_money_cents_total', { kind: calls[kind], outcome }), `${kind} ${outcome}`).toBe(cents);
      }
    }
  });
});

describe('GET /metrics: gauges from the stats snapshot', () => {
  it('when work waits, is dead-lettered and the stock check has run, then every gauge equals the snapshot it was read from', async () => {
    // Two orders nobody works yet: reserve messages waiting, the oldest of them ageing.
    for (let i = 0; i < 2; i++) expect((await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'D', quantity: 1 }] } })).statusCode).toBe(201);
    await stats!.snapshot();
    await stats!.settled(); // the background stock check has a result now
    await new Promise((r) => setTimeout(r, 20));
    const families = await scrape();
    const snap = lastSnapshot!;
    expect(sampleValue(families, 'buildflow_stats_up')).toBe(1);
    for (const topic of snap.topics) {
      for (const state of ['waiting', 'delayed', 'active', 'dead'] as const) {
        expect(sampleValue(families, 'buildflow_outbox_messages', { topic: topic.topic, state }), `${topic.topic} ${state}`).toBe(topic[state]);
      }
      expect(sampleValue(families, 'buildflow_outbox_oldest_waiting_age_seconds', { topic: topic.topic })).toBe((topic.oldestWaitingMs ?? 0) / 1000);
    }
    const reserve = snap.topics.find((x) => x.topic === 'reserve')!;
    expect(reserve.waiting).toBeGreaterThanOrEqual(2);
    expect(reserve.oldestWaitingMs).toBeGreaterThan(0);
    expect(sampleValue(families, 'buildflow_dead_letters')).toBe(snap.topics.reduce((n, x) => n + x.dead, 0));
    expect(sampleValue(families, 'buildflow_dead_letters')).toBeGreaterThanOrEqual(1); // the failing charge above
    expect(sampleValue(families, 'buildflow_orders_stuck')).toBe(snap.orders.stuck.count.count);
    expect(snap.stock.reconciliation.status).toBe('ok');
    expect(sampleValue(families, 'buildflow_stock_invariant_violations')).toBe(snap.stock.reconciliation.drifting);
    expect(sampleValue(families, 'buildflow_workers', { state: 'alive' })).toBe(snap.workers.filter((w) => w.state === 'alive').length);
    const redis = process.env.BUILDFLOW_TEST_SERVER_BACKEND === 'postgres+redis';
    expect(families.some((f) => f.name === 'buildflow_relay_lag_seconds')).toBe(redis);
    if (redis) expect(sampleValue(families, 'buildflow_relay_lag_seconds')).toBeGreaterThan(0); // nothing relays in this test
    await runUntilIdle(t.app, { gateway });
  });
});

describe('request ids', () => {
  it('when a request carries x-request-id, then the answer returns it; without one (or a malformed one), a new UUID', async () => {
    expect((await t.request({ url: '/healthz', headers: { 'x-request-id': 'trace-42.abc' } })).headers['x-request-id']).toBe('trace-42.abc');
    const fresh = (await t.request({ url: '/healthz' })).headers['x-request-id'];
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    const replaced = (await t.request({ url: '/healthz', headers: { 'x-request-id': 'two words\u0007' } })).headers['x-request-id'];
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    // Errors carry it too.
    expect((await t.request({ url: '/v1/orders', headers: { 'x-request-id': 'err-1' } })).headers['x-request-id']).toBe('err-1');
  });
});

describe('the strict exposition parser', () => {
  const valid = '# HELP x_total a counter\n# TYPE x_total counter\nx_total{a="1"} 3\n';
  it('when the exposition is well formed, then it parses', () => {
    expect(sampleValue(parseExposition(valid), 'x_total', { a: '1' })).toBe(3);
  });
  it('when a histogram has labelled series, then each keeps its own buckets, count and sum', () => {
    const text = '# TYPE h histogram\nh_bucket{le="1",m="a"} 1\nh_bucket{le="+Inf",m="a"} 2\nh_sum{m="a"} 3\nh_count{m="a"} 2\nh_bucket{le="1",m="b"} 0\nh_bucket{le="+Inf",m="b"} 5\nh_sum{m="b"} 9\nh_count{m="b"} 5\n';
    const [h] = parseExposition(text);
    expect(h!.series.map((x) => [x.labels, x.count, x.sum, [...x.buckets!.entries()]])).toEqual([
      [{ m: 'a' }, 2, 3, [[1, 1], [Infinity, 2]]],
      [{ m: 'b' }, 5, 9, [[1, 0], [Infinity, 5]]],
    ]);
  });
  it.each([
    ['a sample without TYPE', 'x_total 1\n'],
    ['a bad value', valid.replace(' 3', ' three')],
    ['an unquoted label', valid.replace('a="1"', 'a=1')],
    ['a repeated series', `${valid}x_total{a="1"} 4\n`],
    ['a counter without _total', '# TYPE x counter\nx 1\n'],
    ['a sample of another family', `${valid}y 1\n`],
    ['no final newline', valid.slice(0, -1)],
    ['a histogram whose +Inf is not its count', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['buckets that shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'],
  ])('when the exposition has %s, then the parser refuses it', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
