import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, TEST_REDIS_URL, usesRedis, type Backend } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { assertBuilt, startCli, type RunningProcess } from '../cli/harness.js';

let app: TestApp | undefined;
const running: RunningProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
  await app?.dispose();
  app = undefined;
});

const ORDERS = 30;
const RATE = 10;

function workerEnv(a: TestApp, backend: Backend): Record<string, string> {
  return {
    BUILDFLOW_LOG_LEVEL: 'warn',
    BUILDFLOW_PAYMENT_LATENCY_MS: '0',
    BUILDFLOW_PAY_RATE_PER_S: String(RATE),
    ...(a.config.databaseUrl ? { BUILDFLOW_DATABASE_URL: a.config.databaseUrl } : {}),
    ...(usesRedis(backend) ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: a.config.redis.prefix } : {}),
  };
}

for (const backend of BACKENDS) describe(`pay rate limit [${backend}]`, () => {
  it(`when ${ORDERS} orders wait and two worker processes share BUILDFLOW_PAY_RATE_PER_S=${RATE}, then their payments start no faster than the rate (after one second's burst) and every order is confirmed`, async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 1000, 1000);
    for (let i = 0; i < ORDERS; i++) await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    for (let i = 0; i < 2; i++) running.push(startCli(['worker', '--data-dir', a.dataDir, '--concurrency', '2'], workerEnv(a, backend)));

    const deadline = Date.now() + 45_000;
    for (;;) {
      const confirmed = await a.db.selectFrom('orders').select('id').where('status', '=', 'confirmed').execute();
      if (confirmed.length === ORDERS) break;
      if (Date.now() > deadline) throw new Error(`${confirmed.length} of ${ORDERS} confirmed after 45 s: ${running.map((r) => r.output().stderr.slice(-1000)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = (await a.db.selectFrom('payments').select('created_at').orderBy('created_at').execute()).map((p) => Number(p.created_at));
    expect(started).toHaveLength(ORDERS);
    // The bucket starts full (one second's worth, RATE); the other ORDERS - RATE wait for tokens
    // at RATE a second. Slack of 20 % for clocks and batching.
    const spanS = (started.at(-1)! - started[0]!) / 1000;
    expect(spanS).toBeGreaterThanOrEqual(((ORDERS - RATE) / RATE) * 0.8);
    // In any one second after the first, no more than the rate (plus the burst once) started.
    for (const t of started) expect(started.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(2 * RATE + 1);
  }, 90_000);
});
