import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { ADMIN, openTestServer, type TestServer } from '../helpers/server.js';
import { signUp, type TestCustomer } from '../helpers/customers.js';
import { moneyOf } from '../../src/core/payments/ledger.js';

let t: TestServer;
let c: TestCustomer;

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_MAX_OPEN_ORDERS: 50 });
  await addProduct(t.app, 'MUG', 1000, 1500);
  await addProduct(t.app, 'CUP', 1000, 400);
  c = await signUp(t, 'refunded');
});
afterAll(async () => t?.dispose());

/** A confirmed order of customer c: 2 mugs and 3 cups, 42.00 captured. */
async function confirmedOrder(): Promise<string> {
  const placed = await t.as(c.token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'MUG', quantity: 2 }, { sku: 'CUP', quantity: 3 }] } });
  expect(placed.statusCode).toBe(201);
  await runUntilIdle(t.app);
  return placed.data.id as string;
}

const refund = (orderId: string, key: string, payload: object, headers: Record<string, string> = ADMIN) =>
  t.request({ method: 'POST', url: `/v1/orders/${orderId}/refunds`, headers: { ...headers, 'idempotency-key': key }, payload });

describe('refunds', () => {
  it('when the admin refunds by amount and by lines, then each is 201 pending, then settled by the provider, and the order view adds up', async () => {
    const id = await confirmedOrder();
    const first = await refund(id, 'r-1', { amountCents: 500, reason: 'late delivery' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.data).toMatchObject({ orderId: id, kind: 'refund', amountCents: 500, status: 'pending', reason: 'late delivery' });
    const second = await refund(id, 'r-2', { items: [{ sku: 'CUP', quantity: 2 }], reason: 'chipped cups' });
    expect(second.data).toMatchObject({ amountCents: 800, status: 'pending' });

    // The same key and body: the refund already asked, not a second one; another body: 422.
    const again = await refund(id, 'r-1', { amountCents: 500, reason: 'late delivery' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.data.id).toBe(first.data.id);
    expect((await refund(id, 'r-1', { amountCents: 600, reason: 'late delivery' })).statusCode).toBe(422);

    await runUntilIdle(t.app);
    const order = await t.as(c.token, { url: `/v1/orders/${id}` });
    expect(order.data).toMatchObject({ authorizedCents: 4200, capturedCents: 4200, refundedCents: 1300 });
    const ledger = await t.as(c.token, { url: `/v1/orders/${id}/payments` });
    expect(ledger.statusCode).toBe(200);
    expect(ledger.data.items.map((e: { kind: string; amountCents: number; status: string }) => [e.kind, e.amountCents, e.status])).toEqual([
      ['authorization', 4200, 'succeeded'],
      ['capture', 4200, 'succeeded'],
      ['refund', 500, 'succeeded'],
      ['refund', 800, 'succeeded'],
    ]);
  });

  it('when two refunds race for more than remains, then one is 201 and the other 409 naming both amounts, and the ledger never passes the capture', async () => {
    const id = await confirmedOrder();
    expect((await refund(id, 'pre', { amountCents: 1200, reason: 'concession' })).statusCode).toBe(201);
    // 3000 remain: two refunds of 2000 cannot both pass.
    const [a, b] = await Promise.all([
      refund(id, 'race-a', { amountCents: 2000, reason: 'race a' }),
      refund(id, 'race-b', { amountCents: 2000, reason: 'race b' }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    const refused = a.statusCode === 409 ? a : b;
    expect(refused.data.error.code).toBe('REFUND_EXCEEDS_CAPTURED');
    expect(refused.data.error.message).toContain('captured 4200');
    expect(refused.data.error.message).toContain('refunded 3200');

    await runUntilIdle(t.app);
    const m = (await moneyOf(t.app.db, [id])).get(id)!;
    expect(m).toMatchObject({ capturedCents: 4200, refundedCents: 3200 });
    expect(m.pending).toEqual([]);
    expect((await refund(id, 'rest', { amountCents: 1001, reason: 'too much' })).statusCode).toBe(409);
    expect((await refund(id, 'rest-ok', { amountCents: 1000, reason: 'the rest' })).statusCode).toBe(201);
  });

  it('when the body is wrong or the caller is not the admin, then nothing is written', async () => {
    const id = await confirmedOrder();
    expect((await refund(id, 'both', { amountCents: 100, items: [{ sku: 'MUG', quantity: 1 }], reason: 'x' })).statusCode).toBe(400);
    expect((await refund(id, 'neither', { reason: 'x' })).statusCode).toBe(400);
    expect((await t.request({ method: 'POST', url: `/v1/orders/${id}/refunds`, headers: ADMIN, payload: { amountCents: 100, reason: 'no key' } })).statusCode).toBe(400);
    expect((await refund(id, 'more-mugs', { items: [{ sku: 'MUG', quantity: 3 }], reason: 'x' })).statusCode).toBe(409);
    expect((await refund(id, 'customer', { amountCents: 100, reason: 'x' }, { authorization: `Bearer ${c.token}` })).statusCode).toBe(403);
    expect(await t.app.db.selectFrom('payment_ledger').select('kind').where('order_id', '=', id).where('kind', '=', 'refund').execute()).toEqual([]);
  });
});
