import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOrder } from '../../src/core/orders/queries.js';
import { addProduct } from '../helpers/test-app.js';
import { countRows, runUntilIdle } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer();
  await addProduct(t.app, 'HAM-1', 100, 1250);
  await addProduct(t.app, 'SAW-2', 100, 3999);
});
afterAll(async () => t?.dispose());

async function place(items: { sku: string; quantity: number }[]) {
  const res = await t.admin({ method: 'POST', url: '/v1/orders', payload: { items } });
  expect(res.statusCode).toBe(201);
  return res.data;
}

describe('POST /v1/orders', () => {
  it('when the items are valid, then 201 with a pending order priced from the catalog', async () => {
    const before = await countRows(t.app, 'orders');
    const res = await t.admin({
      method: 'POST',
      url: '/v1/orders',
      payload: { items: [{ sku: 'HAM-1', quantity: 2 }, { sku: 'SAW-2', quantity: 1 }, { sku: 'HAM-1', quantity: 1 }] },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.headers.location).toBe(`/v1/orders/${res.data.id}`);
    expect(res.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reference: expect.stringMatching(/^BF-[0-9A-Z]{8}$/),
      status: 'pending',
      items: [
        { sku: 'HAM-1', name: 'Product HAM-1', quantity: 3, unitPriceCents: 1250, lineTotalCents: 3750 },
        { sku: 'SAW-2', name: 'Product SAW-2', quantity: 1, unitPriceCents: 3999, lineTotalCents: 3999 },
      ],
      totalCents: 3 * 1250 + 3999,
      authorizedCents: 0,
      capturedCents: 0,
      refundedCents: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await countRows(t.app, 'orders')).toBe(before + 1);
    const stored = await t.app.db.selectFrom('orders').select(['total_cents', 'status', 'customer_id']).where('id', '=', res.data.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ total_cents: 7749, status: 'pending', customer_id: null });
  });

  it('when the catalog price changes, then new orders use the new price and old orders keep theirs', async () => {
    await addProduct(t.app, 'PRICE-1', 10, 500);
    const first = await place([{ sku: 'PRICE-1', quantity: 2 }]);
    await addProduct(t.app, 'PRICE-1', 10, 700);
    const second = await place([{ sku: 'PRICE-1', quantity: 2 }]);
    expect([first.totalCents, second.totalCents]).toEqual([1000, 1400]);
    expect((await t.admin({ url: `/v1/orders/${first.id}` })).data.totalCents).toBe(1000);
  });
});

describe('GET /v1/orders and /v1/orders/:id', () => {
  it('when fetched by id or by reference in any case, then the same order comes back', async () => {
    const order = await place([{ sku: 'HAM-1', quantity: 1 }]);
    for (const key of [order.id, order.reference, order.reference.toLowerCase()]) {
      const res = await t.admin({ url: `/v1/orders/${key}` });
      expect(res.statusCode).toBe(200);
      expect(res.data).toEqual(order);
    }
  });

  it('when the order is unknown, then 404 ORDER_NOT_FOUND', async () => {
    for (const url of ['/v1/orders/BF-ZZZZZZZZ', '/v1/orders/00000000-0000-4000-8000-000000000000', '/v1/orders/nope/history']) {
      const res = await t.admin({ url });
      expect(res.statusCode).toBe(404);
      expect(res.data.error.code).toBe('ORDER_NOT_FOUND');
    }
  });

  it('when listing with a small limit, then pages are newest first and cursors walk through all orders', async () => {
    const total = await countRows(t.app, 'orders');
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await t.admin({ url: '/v1/orders', query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(res.statusCode).toBe(200);
      ids.push(...res.data.items.map((o: { id: string }) => o.id));
      cursor = res.data.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  });

  it('when filtering by status, then only orders in that status are listed', async () => {
    const order = await place([{ sku: 'SAW-2', quantity: 1 }]);
    await t.admin({ method: 'POST', url: `/v1/orders/${order.id}/cancel` });
    const cancelled = await t.admin({ url: '/v1/orders?status=cancelled' });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.data.items.map((o: { id: string }) => o.id)).toContain(order.id);
    expect(cancelled.data.items.every((o: { status: string }) => o.status === 'cancelled')).toBe(true);
    const pending = await t.admin({ url: '/v1/orders?status=pending' });
    expect(pending.data.items.map((o: { id: string }) => o.id)).not.toContain(order.id);
  });

  it.each(['status=lost', 'status=', 'limit=0', 'limit=101', 'limit=abc', 'cursor=xyz', 'owner=me'])(
    'when the query is %s, then 400 VALIDATION_FAILED',
    async (query) => {
      const res = await t.admin({ url: `/v1/orders?${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.data.error.code).toBe('VALIDATION_FAILED');
    },
  );
});

describe('POST /v1/orders/:id/cancel', () => {
  it('when the order is pending, then it is cancelled with reason customer_cancelled; cancelling again is 409', async () => {
    const order = await place([{ sku: 'HAM-1', quantity: 2 }]);
    const res = await t.admin({ method: 'POST', url: `/v1/orders/${order.reference}/cancel` });
    expect(res.statusCode).toBe(200);
    expect(res.data).toMatchObject({ id: order.id, status: 'cancelled', cancelReason: 'customer_cancelled' });

    const again = await t.admin({ method: 'POST', url: `/v1/orders/${order.id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.data.error.code).toBe('ORDER_NOT_CANCELLABLE');
  });

  it('when the order is unknown, then 404 ORDER_NOT_FOUND', async () => {
    const res = await t.admin({ method: 'POST', url: '/v1/orders/BF-ZZZZZZZZ/cancel' });
    expect(res.statusCode).toBe(404);
  });
});

describe('history, pipeline fields and notifications', () => {
  it('when an order went through the pipeline, then history lists each transition and the view carries the tracking code', async () => {
    const order = await place([{ sku: 'HAM-1', quantity: 1 }]);
    await runUntilIdle(t.app);

    const history = await t.admin({ url: `/v1/orders/${order.id}/history` });
    expect(history.statusCode).toBe(200);
    expect(history.data.items.map((h: { from: string | null; to: string }) => [h.from, h.to])).toEqual([
      [null, 'pending'],
      ['pending', 'reserved'],
      ['reserved', 'paid'],
      ['paid', 'confirmed'],
    ]);
    expect(history.data.items[0]).toEqual({ from: null, to: 'pending', at: expect.any(String) });

    const res = await t.admin({ url: `/v1/orders/${order.id}` });
    expect(res.data.status).toBe('confirmed');
    expect(res.data.trackingCode).toMatch(/^TRK/);
    // Nothing the core view holds is dropped by the response schema.
    expect(res.data).toEqual(await getOrder(t.app.db, order.id));
  });

  it('when a cancelled order is fetched or listed, then cancelReason is present and history has the reason', async () => {
    const order = await place([{ sku: 'SAW-2', quantity: 1 }]);
    await t.admin({ method: 'POST', url: `/v1/orders/${order.id}/cancel` });
    const res = await t.admin({ url: `/v1/orders/${order.id}` });
    expect(res.data).toEqual(await getOrder(t.app.db, order.id));
    expect(res.data.cancelReason).toBe('customer_cancelled');
    const listed = await t.admin({ url: '/v1/orders?status=cancelled&limit=100' });
    expect(listed.data.items.find((o: { id: string }) => o.id === order.id)).toEqual(res.data);
    const history = await t.admin({ url: `/v1/orders/${order.reference}/history` });
    expect(history.data.items.at(-1)).toMatchObject({ from: 'pending', to: 'cancelled', reason: 'customer_cancelled' });
  });

  it('when filtering notifications by order, then only that order\'s notifications are listed', async () => {
    const confirmed = await place([{ sku: 'HAM-1', quantity: 1 }]);
    const cancelled = await place([{ sku: 'HAM-1', quantity: 1 }]);
    await t.admin({ method: 'POST', url: `/v1/orders/${cancelled.id}/cancel` });
    await runUntilIdle(t.app);

    const all = await t.admin({ url: '/v1/notifications?limit=100' });
    expect(all.statusCode).toBe(200);
    expect(all.data.items.length).toBeGreaterThanOrEqual(2);

    const one = await t.admin({ url: `/v1/notifications?order=${confirmed.reference}` });
    expect(one.statusCode).toBe(200);
    expect(one.data.items).toEqual([
      { id: expect.any(Number), orderId: confirmed.id, orderReference: confirmed.reference, kind: 'order_confirmed', message: expect.stringContaining(confirmed.reference), createdAt: expect.any(String) },
    ]);
    const other = await t.admin({ url: `/v1/notifications?order=${cancelled.id}` });
    expect(other.data.items.map((n: { kind: string }) => n.kind)).toEqual(['order_cancelled']);

    const page = await t.admin({ url: '/v1/notifications?limit=1' });
    expect(page.data.items).toHaveLength(1);
    const next = await t.admin({ url: `/v1/notifications?limit=1&cursor=${page.data.nextCursor}` });
    expect(next.data.items[0].id).toBeLessThan(page.data.items[0].id);
  });

  it('when notifications are asked for an unknown order or with a bad query, then 404 or 400', async () => {
    expect((await t.admin({ url: '/v1/notifications?order=BF-ZZZZZZZZ' })).statusCode).toBe(404);
    expect((await t.admin({ url: '/v1/notifications?limit=500' })).statusCode).toBe(400);
    expect((await t.admin({ url: '/v1/notifications?kind=x' })).statusCode).toBe(400);
  });
});
