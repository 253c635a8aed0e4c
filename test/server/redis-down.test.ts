import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { addProduct } from '../helpers/test-app.js';

/** A loopback port nothing listens on: Redis configured there is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('serve with its Redis down', () => {
  let t: TestServer;
  let port: number;
  const availability: { up: boolean; reason?: string }[] = [];

  beforeAll(async () => {
    port = await closedPort();
    t = await openTestServer({ BUILDFLOW_REDIS_URL: `redis://:secret@127.0.0.1:${port}` });
    t.app.cache.onAvailability((up, reason) => availability.push({ up, ...(reason ? { reason } : {}) }));
    await addProduct(t.app, 'A', 5);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('when Redis cannot be reached, then /readyz answers 503 naming Redis without its password', async () => {
    const res = await t.request({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.data.error.code).toBe('UNAVAILABLE');
    expect(res.data.error.message).toMatch(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${port} does not answer: `));
    expect(res.body).not.toContain('secret');
  });

  it('when Redis cannot be reached, then product reads go to the database at once, and the outage is reported once, not per read', async () => {
    // Let the client meet the refused port at least once.
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      const res = await t.request({ url: '/v1/products/A' });
      expect(res.statusCode).toBe(200);
      expect(res.data.sku).toBe('A');
    }
    // Twenty reads: each a database read, none waiting on Redis (it was 1.1 s each).
    expect(performance.now() - started).toBeLessThan(1000);
    expect(availability).toHaveLength(1);
    expect(availability[0]).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
  });
});
