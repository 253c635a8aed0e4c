import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from '../../src/core/domain/order-status.js';
import { addProduct } from '../helpers/test-app.js';
import { countRows, runUntilIdle, snapshot } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp, type TestCustomer } from '../helpers/customers.js';

// BOLA (OWASP API1): a customer reaches only their own orders, whatever the id, route or query.
let t: TestServer;
let a: TestCustomer;
let b: TestCustomer;
const orders: Record<'a' | 'b' | 'admin', { id: string; reference: string }[]> = { a: [], b: [], admin: [] };

async function place(token: string | null, sku = 'HAM-1') {
  const options = { method: 'POST' as const, url: '/v1/orders', payload: { items: [{ sku, quantity: 1 }] } };
  const res = token ? await t.as(token, options) : await t.admin(options);
  expect(res.statusCode, res.body).toBe(201);
  return res.data as { id: string; reference: string };
}

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_MAX_OPEN_ORDERS: 3 });
  await addProduct(t.app, 'HAM-1', 1000, 1250);
  a = await signUp(t, 'alice');
  b = await signUp(t, 'bob');
  // Each customer: two confirmed orders (with notifications) and one cancelled; plus unowned admin orders.
  for (const [who, token] of [['a', a.token], ['b', b.token], ['admin', null]] as const) {
    for (let i = 0; i < 2; i++) orders[who].push(await place(token));
    await runUntilIdle(t.app);
    const cancelled = await place(token);
    const res = token ? await t.as(token, { method: 'POST', url: `/v1/orders/${cancelled.id}/cancel` }) : await t.admin({ method: 'POST', url: `/v1/orders/${cancelled.id}/cancel` });
    expect(res.statusCode).toBe(200);
    orders[who].push(cancelled);
  }
  await runUntilIdle(t.app);
});
afterAll(async () => t?.dispose());

const idRoutes = [
  (id: string) => ({ method: 'GET' as const, url: `/v1/orders/${id}` }),
  (id: string) => ({ method: 'GET' as const, url: `/v1/orders/${id}/history` }),
  (id: string) => ({ method: 'POST' as const, url: `/v1/orders/${id}/cancel` }),
  (id: string) => ({ method: 'GET' as const, url: `/v1/notifications?order=${encodeURIComponent(id)}` }),
];

describe('ownership', () => {
  it("when customer A uses any id route on another's order (by id or reference, any case), then 404 with none of its data and nothing changes", async () => {
    const before = await snapshot(t.app);
    const foreign = [...orders.b, ...orders.admin];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...idRoutes),
        fc.constantFrom(...foreign),
        fc.constantFrom('id', 'reference', 'lower'),
        async (route, order, form) => {
          const key = form === 'id' ? order.id : form === 'reference' ? order.reference : order.reference.toLowerCase();
          const res = await t.as(a.token, route(key));
          // Exactly what a missing order gets: the caller learns nothing but the key it sent.
          expect(res.statusCode).toBe(404);
          expect(res.data).toEqual({ error: { code: 'ORDER_NOT_FOUND', message: `order ${key} not found` } });
          if (form !== 'id') expect(res.body).not.toContain(order.id);
        },
      ),
      { numRuns: 60 },
    );
    expect(await snapshot(t.app)).toEqual(before);

    // Their own orders do answer, on every route.
    for (const route of idRoutes) expect((await t.as(a.token, route(orders.a[0]!.reference))).statusCode).not.toBe(404);
  });

  it('when customer A lists orders or notifications with any filter, then only their own rows come back', async () => {
    const mine = new Set(orders.a.map((o) => o.id));
    const statuses = fc.option(fc.constantFrom(...ORDER_STATUSES), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(statuses, fc.integer({ min: 1, max: 100 }), fc.boolean(), async (status, limit, notifications) => {
        const query = new URLSearchParams({ limit: String(limit), ...(status && !notifications ? { status } : {}) });
        let cursor: string | undefined;
        const seen: string[] = [];
        do {
          if (cursor) query.set('cursor', cursor);
          const res = await t.as(a.token, { url: `${notifications ? '/v1/notifications' : '/v1/orders'}?${query}` });
          expect(res.statusCode).toBe(200);
          seen.push(...res.data.items.map((x: { id: string; orderId?: string }) => (notifications ? x.orderId! : x.id)));
          cursor = res.data.nextCursor;
        } while (cursor);
        for (const id of seen) expect(mine.has(id)).toBe(true);
        if (!status && !notifications) expect(new Set(seen)).toEqual(mine);
      }),
      { numRuns: 40 },
    );
    // A cursor copied from someone else's listing does not widen the scope either.
    const adminPage = await t.admin({ url: '/v1/orders?limit=1' });
    const res = await t.as(a.token, { url: `/v1/orders?limit=100&cursor=${adminPage.data.nextCursor}` });
    for (const o of res.data.items) expect(mine.has(o.id)).toBe(true);
  });

  it('when the admin lists orders, then every customer\'s and unowned orders are there', async () => {
    const res = await t.admin({ url: '/v1/orders?limit=100' });
    const ids = new Set(res.data.items.map((o: { id: string }) => o.id));
    for (const o of [...orders.a, ...orders.b, ...orders.admin]) expect(ids.has(o.id)).toBe(true);
  });

  it('when an anonymous caller uses an order or notification route, then 401', async () => {
    for (const options of [
      { method: 'POST' as const, url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } },
      { method: 'GET' as const, url: '/v1/orders' },
      ...idRoutes.map((r) => r(orders.a[0]!.id)),
    ]) {
      const res = await t.request(options);
      expect(res.statusCode, options.url).toBe(401);
      expect(res.data.error.code).toBe('UNAUTHORIZED');
    }
  });
});

describe('mass assignment and the owner', () => {
  it.each([
    ['price', { items: [{ sku: 'HAM-1', quantity: 1, price: 1 }] }],
    ['unitPriceCents', { items: [{ sku: 'HAM-1', quantity: 1, unitPriceCents: 1 }] }],
    ['total', { items: [{ sku: 'HAM-1', quantity: 1 }], total: 1 }],
    ['totalCents', { items: [{ sku: 'HAM-1', quantity: 1 }], totalCents: 1 }],
    ['status', { items: [{ sku: 'HAM-1', quantity: 1 }], status: 'confirmed' }],
    ['customerId', { items: [{ sku: 'HAM-1', quantity: 1 }], customerId: 'someone-else' }],
    ['customer_id', { items: [{ sku: 'HAM-1', quantity: 1 }], customer_id: 'someone-else' }],
  ])('when the body sets %s, then 400 naming the field and nothing is written', async (field, payload) => {
    const before = { orders: await countRows(t.app, 'orders'), outbox: await countRows(t.app, 'outbox') };
    const res = await t.as(a.token, { method: 'POST', url: '/v1/orders', payload });
    expect(res.statusCode).toBe(400);
    expect(res.data.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining(`"${field}"`) });
    expect({ orders: await countRows(t.app, 'orders'), outbox: await countRows(t.app, 'outbox') }).toEqual(before);
  });

  it('when a customer places an order, then its owner is that customer; ?customerId= is refused for customers and honoured for the admin', async () => {
    const own = await place(a.token);
    const stored = await t.app.db.selectFrom('orders').select('customer_id').where('id', '=', own.id).executeTakeFirstOrThrow();
    expect(stored.customer_id).toBe(a.id);
    await t.as(a.token, { method: 'POST', url: `/v1/orders/${own.id}/cancel` });

    const forged = await t.as(a.token, { method: 'POST', url: `/v1/orders?customerId=${b.id}`, payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } });
    expect(forged.statusCode).toBe(403);

    const onBehalf = await t.admin({ method: 'POST', url: `/v1/orders?customerId=${b.id}`, payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } });
    expect(onBehalf.statusCode).toBe(201);
    expect((await t.as(b.token, { url: `/v1/orders/${onBehalf.data.id}` })).statusCode).toBe(200);
    expect((await t.as(a.token, { url: `/v1/orders/${onBehalf.data.id}` })).statusCode).toBe(404);
    await t.admin({ method: 'POST', url: `/v1/orders/${onBehalf.data.id}/cancel` });

    const unknown = await t.admin({ method: 'POST', url: '/v1/orders?customerId=nobody', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.data.error.code).toBe('CUSTOMER_NOT_FOUND');
  });

  it("when two customers use the same Idempotency-Key, then each gets their own order, never the other's", async () => {
    const send = (token: string) =>
      t.as(token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] }, headers: { 'idempotency-key': 'shared-key' } });
    const first = await send(a.token);
    const second = await send(b.token);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.data.id).not.toBe(first.data.id);
    expect((await send(a.token)).data.id).toBe(first.data.id);
    for (const [token, id] of [[a.token, first.data.id], [b.token, second.data.id]]) await t.as(token, { method: 'POST', url: `/v1/orders/${id}/cancel` });
  });
});

describe('open orders per customer', () => {
  it('when a customer already holds the maximum of pending/reserved orders, then 409 TOO_MANY_OPEN_ORDERS, even for concurrent requests', async () => {
    const c = await signUp(t, 'hoarder');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => t.as(c.token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } })),
    );
    const created = results.filter((r) => r.statusCode === 201);
    expect(created).toHaveLength(3);
    for (const r of results.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(r.data.error.code).toBe('TOO_MANY_OPEN_ORDERS');
    }
    // Another customer is not affected; cancelling one frees a slot.
    const other = await signUp(t, 'other');
    expect((await t.as(other.token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } })).statusCode).toBe(201);
    await t.as(c.token, { method: 'POST', url: `/v1/orders/${created[0]!.data.id}/cancel` });
    expect((await t.as(c.token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } })).statusCode).toBe(201);
  });
});
