import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// fastify's own validator, so the schema is checked as the route's serializer reads it.
import { Ajv } from 'ajv';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { addProduct } from '../helpers/test-app.js';
import { signUp } from '../helpers/customers.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { StatsSnapshotSchema } from '../../src/server/schemas/stats.js';
import { scriptedGateway } from '../helpers/payment-gateway.js';

let t: TestServer;

/** Declines the charge of 20.00 and captures every other: tells the two orders' fates apart. */
const gateway: PaymentGateway = scriptedGateway(async ({ idempotencyKey, amountCents }) => ({
  outcome: amountCents === 2000 ? 'declined' : 'authorized',
  providerRef: `ref-${idempotencyKey}`,
}));

beforeAll(async () => {
  t = await openTestServer({}, {}, { gateway });
  await addProduct(t.app, 'A', 10);
});
afterAll(async () => t?.dispose());

describe('GET /v1/admin/stats', () => {
  it('when the admin asks after two orders, one confirmed and one declined, then the snapshot has the schema and the funnel counts both', async () => {
    await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'A', quantity: 1 }] } });
    await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'A', quantity: 2 }] } });
    await runUntilIdle(t.app);
    await new Promise((r) => setTimeout(r, 1000)); // past the once-per-second cache of any earlier poll
    const res = await t.admin({ url: '/v1/admin/stats' });
    expect(res.statusCode).toBe(200);
    const validate = new Ajv({ strict: false, validateFormats: false }).compile(StatsSnapshotSchema);
    expect(validate(res.data), JSON.stringify(validate.errors)).toBe(true);
    // The declined order was reserved and is counted there though it is cancelled now.
    expect(res.data.counters).toEqual({ ordersPlaced: 2, ordersReserved: 2, ordersPaid: 1, ordersConfirmed: 1, ordersCancelled: 1 });
    const cell = process.env.BUILDFLOW_TEST_SERVER_BACKEND ?? 'sqlite';
    expect(res.data.deployment).toMatchObject({ cell, storage: cell === 'sqlite' ? 'sqlite' : 'postgres', pid: process.pid });
    expect(res.data.topics.map((x: { topic: string }) => x.topic)).toEqual(['reserve', 'pay', 'confirm', 'notify', 'refund', 'ship', 'deliver']);
    expect(res.data.orders.recent).toHaveLength(2);
  });

  it('when many clients poll within a second, then they all get the same snapshot', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.admin({ url: '/v1/admin/stats' })));
    expect(new Set(answers.map((a) => a.data.generatedAt)).size).toBe(1);
    const again = await t.admin({ url: '/v1/admin/stats' });
    expect(again.data.generatedAt).toBe(answers[0]!.data.generatedAt);
  });

  it('when no credentials, a wrong key or a customer token is sent, then 401, 401 and 403 with no data', async () => {
    const none = await t.request({ url: '/v1/admin/stats' });
    expect(none.statusCode).toBe(401);
    expect(none.data).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    const wrong = await t.as('not-the-admin-key-at-all', { url: '/v1/admin/stats' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.data.error.code).toBe('UNAUTHORIZED');
    const customer = await signUp(t);
    const forbidden = await t.as(customer.token, { url: '/v1/admin/stats' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.data).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
  });

  it('when the OpenAPI document is read, then it describes the route with the admin tag and its responses', async () => {
    const doc = (await t.request({ url: '/openapi.json' })).data;
    const op = doc.paths['/v1/admin/stats'].get;
    expect(op.tags).toEqual(['admin']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
    const schema = op.responses['200'].content['application/json'].schema;
    expect(schema.properties.topics).toBeDefined();
    expect(Object.keys(schema.properties.counters.properties)).toEqual(['ordersPlaced', 'ordersReserved', 'ordersPaid', 'ordersConfirmed', 'ordersCancelled']);
    expect(schema.properties.counters.properties.ordersReserved.description).toContain('reached reserved');
  });
});
