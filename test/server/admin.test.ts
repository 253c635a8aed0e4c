import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp } from '../helpers/customers.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer();
  await addProduct(t.app, 'ADM-1', 100, 1250);
});
afterAll(async () => t?.dispose());

describe('GET /v1/admin/payments', () => {
  it('when orders went through the pipeline, then each has one captured payment for its total, paged by order id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'ADM-1', quantity: i + 1 }] } });
      expect(res.statusCode).toBe(201);
      ids.push(res.data.id);
    }
    await runUntilIdle(t.app);
    const first = await t.admin({ url: '/v1/admin/payments?limit=2' });
    expect(first.statusCode).toBe(200);
    expect(first.data.items).toHaveLength(2);
    const second = await t.admin({ url: `/v1/admin/payments?limit=2&cursor=${first.data.nextCursor}` });
    expect(second.data.nextCursor).toBeUndefined();
    const all = [...first.data.items, ...second.data.items];
    expect(all.map((p: { orderId: string }) => p.orderId)).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      expect(all.find((p: { orderId: string }) => p.orderId === id)).toMatchObject({ status: 'captured', amountCents: 1250 * (i + 1), providerRef: expect.any(String) });
    }
    const one = await t.admin({ url: `/v1/admin/payments?order=${ids[1]}` });
    expect(one.data.items.map((p: { orderId: string }) => p.orderId)).toEqual([ids[1]]);
  });

  it('when a customer asks, then 403; without credentials, then 401', async () => {
    const customer = await signUp(t, 'admin-route');
    expect((await t.as(customer.token, { url: '/v1/admin/payments' })).statusCode).toBe(403);
    expect((await t.request({ url: '/v1/admin/payments' })).statusCode).toBe(401);
  });

  it('when the cursor is garbage, then 400 with the error shape', async () => {
    const res = await t.admin({ url: '/v1/admin/payments?cursor=nope' });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /v1/admin/stock-drift', () => {
  it('when stock and ledger agree, then no items; when a counter is changed behind the ledger, then that product with both sides', async () => {
    expect((await t.admin({ url: '/v1/admin/stock-drift' })).data).toEqual({ items: [] });
    await t.app.db.updateTable('products').set({ on_hand: 7 }).where('sku', '=', 'ADM-1').execute();
    const res = await t.admin({ url: '/v1/admin/stock-drift' });
    expect(res.data.items).toEqual([{ sku: 'ADM-1', onHand: 7, reserved: 0, ledgerOnHand: 100 - 6, ledgerReserved: 0 }]);
  });

  it('when the routes are documented, then OpenAPI lists both under admin', async () => {
    const doc = (await t.request({ url: '/openapi.json' })).data;
    expect(doc.paths['/v1/admin/payments'].get.tags).toEqual(['admin']);
    expect(doc.paths['/v1/admin/stock-drift'].get.tags).toEqual(['admin']);
  });
});
