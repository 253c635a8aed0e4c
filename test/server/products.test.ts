import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { runUpTo } from '../helpers/pipeline.js';
import { ADMIN, openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer();
  // 25 tools (T-00..T-24) and 3 garden products, so pages of 20 and filters have something to show.
  for (let i = 0; i < 25; i++) await addProduct(t.app, `T-${String(i).padStart(2, '0')}`, 10, 100 + i, 'tools');
  for (const sku of ['G-1', 'G-2', 'G-3']) await addProduct(t.app, sku, 5, 250, 'garden');
});
afterAll(async () => t?.dispose());

describe('GET /v1/products', () => {
  it('when no limit is given, then the first 20 products come back by sku with a cursor', async () => {
    const res = await t.request({ url: '/v1/products' });
    expect(res.statusCode).toBe(200);
    expect(res.data.items).toHaveLength(20);
    expect(res.data.items[0]).toEqual({
      sku: 'G-1',
      name: 'Product G-1',
      category: 'garden',
      unitPriceCents: 250,
      onHand: 5,
      reserved: 0,
      available: 5,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(typeof res.data.nextCursor).toBe('string');
  });

  it('when following cursors, then every product is seen exactly once and the last page has no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await t.request({ url: '/v1/products', query: { limit: '7', ...(cursor ? { cursor } : {}) } });
      expect(res.statusCode).toBe(200);
      expect(res.data.items.length).toBeLessThanOrEqual(7);
      seen.push(...res.data.items.map((p: { sku: string }) => p.sku));
      cursor = res.data.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeUndefined();
    expect(seen).toHaveLength(28);
    expect(new Set(seen).size).toBe(28);
    expect([...seen].sort()).toEqual(seen);
  });

  it('when filtering by category, then only that category is listed', async () => {
    const res = await t.request({ url: '/v1/products?category=garden' });
    expect(res.statusCode).toBe(200);
    expect(res.data.items.map((p: { sku: string }) => p.sku)).toEqual(['G-1', 'G-2', 'G-3']);
    expect(res.data.nextCursor).toBeUndefined();
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['limit=1.5', 'query.limit'],
    ['limit=', 'query.limit'],
    ['cursor=not-a-cursor', 'cursor'],
    ['color=red', 'color'],
  ])('when the query is %s, then 400 VALIDATION_FAILED names the problem', async (query, named) => {
    const res = await t.request({ url: `/v1/products?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.data).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining(named) } });
  });

  it('when limit is 100, then it is accepted', async () => {
    const res = await t.request({ url: '/v1/products?limit=100' });
    expect(res.statusCode).toBe(200);
    expect(res.data.items).toHaveLength(28);
  });
});

describe('GET /v1/products/:sku', () => {
  it('when the sku exists, then the product view comes back', async () => {
    const res = await t.request({ url: '/v1/products/G-2' });
    expect(res.statusCode).toBe(200);
    expect(res.data).toMatchObject({ sku: 'G-2', category: 'garden', onHand: 5, available: 5 });
  });

  it('when the sku is unknown, then 404 PRODUCT_NOT_FOUND', async () => {
    const res = await t.request({ url: '/v1/products/NOPE-1' });
    expect(res.statusCode).toBe(404);
    expect(res.data.error.code).toBe('PRODUCT_NOT_FOUND');
  });

  it('when the sku is not a valid sku, then 400 VALIDATION_FAILED', async () => {
    const res = await t.request({ url: '/v1/products/bad%20sku' });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('PUT /v1/products/:sku (admin)', () => {
  const body = { name: 'Claw hammer', category: 'tools', unitPriceCents: 1999, onHand: 12 };

  it('when the admin key is missing or wrong, then 401 UNAUTHORIZED with WWW-Authenticate and nothing is written', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-key-wrong-key-wrong' }, { authorization: 'Basic Zm9vOmJhcg==' }, { authorization: `Bearer ${ADMIN.authorization.slice(7, -1)}` }]) {
      const res = await t.request({ method: 'PUT', url: '/v1/products/HAM-9', payload: body, headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.data.error.code).toBe('UNAUTHORIZED');
    }
    expect((await t.request({ url: '/v1/products/HAM-9' })).statusCode).toBe(404);
  });

  it('when the key is missing and the body is invalid too, then 401 comes first', async () => {
    const res = await t.request({ method: 'PUT', url: '/v1/products/HAM-9', payload: '{oops', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401);
  });

  it('when the product is new, then 201 with its initial stock; when it exists, then 200 and stock is unchanged', async () => {
    const created = await t.request({ method: 'PUT', url: '/v1/products/HAM-9', payload: body, headers: ADMIN });
    expect(created.statusCode).toBe(201);
    expect(created.data).toMatchObject({ sku: 'HAM-9', name: 'Claw hammer', unitPriceCents: 1999, onHand: 12, available: 12 });

    const updated = await t.request({ method: 'PUT', url: '/v1/products/HAM-9', payload: { ...body, unitPriceCents: 2499, onHand: 99 }, headers: ADMIN });
    expect(updated.statusCode).toBe(200);
    expect(updated.data).toMatchObject({ unitPriceCents: 2499, onHand: 12 });
  });

  it.each([
    [{ name: 'x', category: 'tools' }, 'unitPriceCents'],
    [{ ...body, unitPriceCents: -1 }, 'unitPriceCents'],
    [{ ...body, unitPriceCents: '100' }, 'unitPriceCents'],
    [{ ...body, reserved: 3 }, 'reserved'],
    [{ ...body, name: '' }, 'name'],
  ])('when the body is %j, then 400 VALIDATION_FAILED naming %s', async (payload, named) => {
    const res = await t.request({ method: 'PUT', url: '/v1/products/HAM-8', payload, headers: ADMIN });
    expect(res.statusCode).toBe(400);
    expect(res.data.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining(named) });
    expect((await t.request({ url: '/v1/products/HAM-8' })).statusCode).toBe(404);
  });
});

describe('POST /v1/products/:sku/stock and GET movements (admin)', () => {
  it('when the admin key is missing, then 401 and stock is unchanged', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/products/T-01/stock', payload: { set: 0 } });
    expect(res.statusCode).toBe(401);
    expect((await t.request({ url: '/v1/products/T-01' })).data.onHand).toBe(10);
    expect((await t.request({ url: '/v1/products/T-01/movements' })).statusCode).toBe(401);
  });

  it('when stock is set and then changed by a delta, then each writes a ledger row visible in movements', async () => {
    const set = await t.request({ method: 'POST', url: '/v1/products/T-02/stock', payload: { set: 30, reason: 'count' }, headers: ADMIN });
    expect(set.statusCode).toBe(200);
    expect(set.data).toMatchObject({ sku: 'T-02', onHand: 30, available: 30 });

    const delta = await t.request({ method: 'POST', url: '/v1/products/T-02/stock', payload: { delta: -4, reason: 'broken' }, headers: ADMIN });
    expect(delta.statusCode).toBe(200);
    expect(delta.data.onHand).toBe(26);

    const movements = await t.request({ url: '/v1/products/T-02/movements', headers: ADMIN });
    expect(movements.statusCode).toBe(200);
    expect(movements.data.items.map((m: { onHandDelta: number; reason?: string }) => [m.onHandDelta, m.reason])).toEqual([
      [-4, 'broken'],
      [20, 'count'],
      [10, 'initial stock'],
    ]);
    expect(movements.data.items[0]).toEqual({ id: expect.any(Number), kind: 'adjust', onHandDelta: -4, reservedDelta: 0, reason: 'broken', at: expect.any(String) });

    const page = await t.request({ url: '/v1/products/T-02/movements?limit=2', headers: ADMIN });
    expect(page.data.items).toHaveLength(2);
    const rest = await t.request({ url: `/v1/products/T-02/movements?limit=2&cursor=${page.data.nextCursor}`, headers: ADMIN });
    expect(rest.data.items.map((m: { reason: string }) => m.reason)).toEqual(['initial stock']);
    expect(rest.data.nextCursor).toBeUndefined();
  });

  it('when a delta would go below what is reserved, then 409 STOCK_BELOW_RESERVED and stock is unchanged', async () => {
    const order = await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'T-03', quantity: 8 }] } });
    expect(order.statusCode).toBe(201);
    await runUpTo(t.app, 'pay'); // the reserve step only: 8 of 10 are now held for the order
    expect((await t.request({ url: '/v1/products/T-03' })).data).toMatchObject({ onHand: 10, reserved: 8 });

    const res = await t.request({ method: 'POST', url: '/v1/products/T-03/stock', payload: { delta: -3, reason: 'theft' }, headers: ADMIN });
    expect(res.statusCode).toBe(409);
    expect(res.data.error.code).toBe('STOCK_BELOW_RESERVED');
    expect((await t.request({ url: '/v1/products/T-03' })).data).toMatchObject({ onHand: 10, reserved: 8 });
  });

  it.each([
    [{ delta: -2 }, 'reason'],
    [{ set: 3, delta: 1, reason: 'x' }, 'unknown field'],
    [{}, 'set'],
    [{ set: -1 }, 'set'],
    [{ set: '5' }, 'set'],
    [{ set: 5, note: 'x' }, 'note'],
  ])('when the body is %j, then 400 VALIDATION_FAILED mentioning %s', async (payload, named) => {
    const res = await t.request({ method: 'POST', url: '/v1/products/T-04/stock', payload, headers: ADMIN });
    expect(res.statusCode).toBe(400);
    expect(res.data.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining(named) });
  });

  it('when the product is unknown, then 404 PRODUCT_NOT_FOUND', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/products/NOPE-2/stock', payload: { set: 1 }, headers: ADMIN });
    expect(res.statusCode).toBe(404);
    expect(res.data.error.code).toBe('PRODUCT_NOT_FOUND');
    expect((await t.request({ url: '/v1/products/NOPE-2/movements', headers: ADMIN })).statusCode).toBe(404);
  });
});
