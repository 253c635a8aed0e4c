import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp, type TestCustomer } from '../helpers/customers.js';
import { moneyOf } from '../../src/core/payments/ledger.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { findMoneyMismatches } from '../../src/core/payments/reconcile-money.js';

let t: TestServer;
let c: TestCustomer;
let other: TestCustomer;

beforeAll(async () => {
  // Emails are written (never sent here: no delivery worker runs), so each event's row can be counted.
  t = await openTestServer({ BUILDFLOW_MAX_OPEN_ORDERS: 50, BUILDFLOW_SMTP_URL: 'smtp://127.0.0.1:29999', BUILDFLOW_MAIL_FROM: 'Shop <shop@example.com>' });
  await addProduct(t.app, 'MUG', 1000, 1500);
  await addProduct(t.app, 'CUP', 1000, 400);
  await addProduct(t.app, 'LAST', 1, 700);
  await createEndpoint(t.app.units, { url: 'http://127.0.0.1:29998/hooks', events: ['order.refunded', 'order.return_requested', 'order.returned'] }, { allowPrivate: true });
  c = await signUp(t, 'returner');
  other = await signUp(t, 'someone-else');
});
afterAll(async () => t?.dispose());

/** An order of customer c (by default 2 mugs and 3 cups, 42.00), run through the pipeline to `to`. */
async function orderAt(to: 'confirmed' | 'shipped' | 'delivered', items = [{ sku: 'MUG', quantity: 2 }, { sku: 'CUP', quantity: 3 }]): Promise<string> {
  const placed = await t.as(c.token, { method: 'POST', url: '/v1/orders', payload: { items } });
  expect(placed.statusCode, placed.body).toBe(201);
  await runUntilIdle(t.app);
  const id = placed.data.id as string;
  const { tracking_code } = await t.app.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', id).executeTakeFirstOrThrow();
  for (const step of to === 'confirmed' ? [] : to === 'shipped' ? (['shipped'] as const) : (['shipped', 'delivered'] as const)) {
    await requestShipmentUpdate(t.app.units, tracking_code, step);
    await runUntilIdle(t.app);
  }
  return id;
}

const ask = (orderId: string, payload: object, token = c.token) => t.as(token, { method: 'POST', url: `/v1/orders/${orderId}/returns`, payload });
const receive = (returnId: string, items: object[]) => t.admin({ method: 'POST', url: `/v1/returns/${returnId}/receive`, payload: { items } });
const countWhere = async (table: 'notifications' | 'email_messages' | 'webhook_deliveries', orderId: string, kind: string) => {
  const column = table === 'webhook_deliveries' ? 'event_type' : 'kind';
  const rows = await t.app.db.selectFrom(table).select('order_id').where('order_id', '=', orderId).where(column, '=', kind).execute();
  return rows.length;
};
const returnsOf = (orderId: string) => t.app.db.selectFrom('returns').select('id').where('order_id', '=', orderId).execute();

describe('returns', () => {
  it('when a delivered order is returned in parts, then the returns add up, receiving restocks only restock lines and refunds exactly their price, each event told once', async () => {
    const id = await orderAt('delivered');
    const before = await getProduct(t.app.db, 'MUG');
    const first = await ask(id, { items: [{ sku: 'MUG', quantity: 1 }, { sku: 'CUP', quantity: 2 }], reason: 'too many' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.data).toMatchObject({ orderId: id, status: 'requested', requestedBy: 'customer', reason: 'too many' });
    expect(first.data.lines).toEqual([
      { sku: 'CUP', quantity: 2, unitPriceCents: 400 },
      { sku: 'MUG', quantity: 1, unitPriceCents: 1500 },
    ]);
    const second = await ask(id, { items: [{ sku: 'MUG', quantity: 1 }], reason: 'broken' });
    expect(second.statusCode).toBe(201);
    // 2 mugs bought, 2 asked back already: a third is refused, naming the sku and both quantities.
    const third = await ask(id, { items: [{ sku: 'MUG', quantity: 1 }], reason: 'one more' });
    expect(third.statusCode).toBe(409);
    expect(third.data.error.code).toBe('RETURN_EXCEEDS_PURCHASED');
    expect(third.data.error.message).toMatch(/MUG.*bought 2, already returned 2/);

    // The first: the mug comes back resellable, the cups broken (not restocked) and only one of them.
    const got = await receive(first.data.id, [
      { sku: 'MUG', quantity: 1, restock: true },
      { sku: 'CUP', quantity: 1, restock: false },
    ]);
    expect(got.statusCode, got.body).toBe(200);
    expect(got.data).toMatchObject({ status: 'received', refundCents: 1900 });
    expect(got.data.lines).toEqual([
      { sku: 'CUP', quantity: 2, unitPriceCents: 400, receivedQuantity: 1, restock: false },
      { sku: 'MUG', quantity: 1, unitPriceCents: 1500, receivedQuantity: 1, restock: true },
    ]);
    expect((await getProduct(t.app.db, 'MUG')).onHand).toBe(before.onHand + 1);
    // Receiving twice: refused, nothing moves.
    const again = await receive(first.data.id, [{ sku: 'MUG', quantity: 1, restock: true }]);
    expect(again.statusCode).toBe(409);
    expect(again.data.error.code).toBe('RETURN_ALREADY_RECEIVED');
    expect((await getProduct(t.app.db, 'MUG')).onHand).toBe(before.onHand + 1);

    // The cup that never arrived may still be returned: what counts is what was received.
    expect((await ask(id, { items: [{ sku: 'CUP', quantity: 2 }], reason: 'the rest' })).statusCode).toBe(201);
    expect((await ask(id, { items: [{ sku: 'CUP', quantity: 1 }], reason: 'too far' })).statusCode).toBe(409);

    expect((await receive(second.data.id, [{ sku: 'MUG', quantity: 1, restock: true }])).data.refundCents).toBe(1500);
    await runUntilIdle(t.app);
    const m = (await moneyOf(t.app.db, [id])).get(id)!;
    expect(m).toMatchObject({ capturedCents: 4200, refundedCents: 3400, pending: [] });
    const refunds = await t.app.db.selectFrom('payment_ledger').select(['amount_cents', 'return_id', 'status']).where('order_id', '=', id).where('kind', '=', 'refund').orderBy('id').execute();
    expect(refunds.map((r) => [Number(r.amount_cents), r.return_id, r.status])).toEqual([
      [1900, first.data.id, 'succeeded'],
      [1500, second.data.id, 'succeeded'],
    ]);
    expect((await getProduct(t.app.db, 'MUG')).onHand).toBe(before.onHand + 2);
    const movements = await t.app.db.selectFrom('stock_movements').select(['sku', 'kind', 'on_hand_delta']).where('order_id', '=', id).where('kind', '=', 'return').orderBy('id').execute();
    expect(movements.map((r) => [r.sku, Number(r.on_hand_delta)])).toEqual([['MUG', 1], ['MUG', 1]]);
    expect(await findStockDrift(t.app.db)).toEqual([]);
    expect((await findMoneyMismatches(t.app.db)).filter((x) => x.orderId === id)).toEqual([]);

    // Each return and each refund is its own event: one notification, email and webhook delivery each.
    for (const table of ['notifications', 'email_messages'] as const) {
      expect(await countWhere(table, id, 'order_return_requested')).toBe(3);
      expect(await countWhere(table, id, 'order_returned')).toBe(2);
      expect(await countWhere(table, id, 'order_refunded')).toBe(2);
    }
    expect(await countWhere('webhook_deliveries', id, 'order.return_requested')).toBe(3);
    expect(await countWhere('webhook_deliveries', id, 'order.returned')).toBe(2);
    expect(await countWhere('webhook_deliveries', id, 'order.refunded')).toBe(2);
    const refunded = await t.app.db.selectFrom('webhook_deliveries').select('body').where('order_id', '=', id).where('event_type', '=', 'order.refunded').orderBy('id').execute();
    expect(refunded.map((d) => JSON.parse(d.body).data.amountCents)).toEqual([1900, 1500]);
    // A second run of the workers tells nothing again.
    await runUntilIdle(t.app);
    expect(await countWhere('notifications', id, 'order_refunded')).toBe(2);

    const listed = await t.as(c.token, { url: `/v1/orders/${id}/returns` });
    expect(listed.statusCode).toBe(200);
    expect(listed.data.items.map((r: { status: string }) => r.status)).toEqual(['received', 'received', 'requested']);
  });

  it('when a return is sent again with the same Idempotency-Key, then the return already asked answers; another body under it is 422', async () => {
    const id = await orderAt('shipped');
    const send = (payload: object) => t.as(c.token, { method: 'POST', url: `/v1/orders/${id}/returns`, headers: { 'idempotency-key': 'ret-1' }, payload });
    const body = { items: [{ sku: 'CUP', quantity: 2 }], reason: 'too many' };
    const [a, b] = await Promise.all([send(body), send(body)]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.data.id).toBe(b.data.id);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
    expect((await send({ ...body, reason: 'other' })).statusCode).toBe(422);
    expect(await returnsOf(id)).toHaveLength(1);
    expect(await countWhere('notifications', id, 'order_return_requested')).toBe(1);
  });

  it('when a return asks more than bought, or names another customer\'s order, then it is refused and nothing is written', async () => {
    const id = await orderAt('shipped');
    const tooMany = await ask(id, { items: [{ sku: 'CUP', quantity: 4 }], reason: 'x' });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.data.error).toMatchObject({ code: 'RETURN_EXCEEDS_PURCHASED' });
    expect(tooMany.data.error.message).toContain('CUP');
    expect(tooMany.data.error.message).toContain('bought 3');
    const notBought = await ask(id, { items: [{ sku: 'LAST', quantity: 1 }], reason: 'x' });
    expect(notBought.statusCode).toBe(409);
    const stranger = await ask(id, { items: [{ sku: 'CUP', quantity: 1 }], reason: 'x' }, other.token);
    expect(stranger.statusCode).toBe(404);
    expect(stranger.data.error.code).toBe('ORDER_NOT_FOUND');
    expect((await t.as(other.token, { url: `/v1/orders/${id}/returns` })).statusCode).toBe(404);
    expect(await returnsOf(id)).toEqual([]);
    expect(await countWhere('notifications', id, 'order_return_requested')).toBe(0);
    // A customer may not receive a return.
    expect((await t.as(c.token, { method: 'POST', url: `/v1/returns/x/receive`, payload: { items: [] } })).statusCode).toBe(403);
    expect((await receive('no-such-return', [])).statusCode).toBe(404);
  });

  it('when an order has not shipped, or its return window closed, then the customer is refused with a clear code; the admin may return past the window', async () => {
    const confirmed = await orderAt('confirmed');
    const early = await ask(confirmed, { items: [{ sku: 'CUP', quantity: 1 }], reason: 'x' });
    expect(early.statusCode).toBe(409);
    expect(early.data.error.code).toBe('RETURN_NOT_ALLOWED');

    const old = await orderAt('delivered');
    await t.app.db.updateTable('order_history').set({ at: Date.now() - 31 * 24 * 3600 * 1000 }).where('order_id', '=', old).execute();
    const late = await ask(old, { items: [{ sku: 'CUP', quantity: 1 }], reason: 'x' });
    expect(late.statusCode).toBe(409);
    expect(late.data.error.code).toBe('RETURN_WINDOW_CLOSED');
    expect(await returnsOf(old)).toEqual([]);
    const byAdmin = await t.admin({ method: 'POST', url: `/v1/orders/${old}/returns`, payload: { items: [{ sku: 'CUP', quantity: 1 }], reason: 'goodwill' } });
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.data.requestedBy).toBe('admin');
  });

  it('when two returns race for the last unit, then one is 201 and the other 409; two receipts race, one wins', async () => {
    const id = await orderAt('delivered', [{ sku: 'LAST', quantity: 1 }]);
    const [a, b] = await Promise.all([ask(id, { items: [{ sku: 'LAST', quantity: 1 }], reason: 'a' }), ask(id, { items: [{ sku: 'LAST', quantity: 1 }], reason: 'b' })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect((a.statusCode === 409 ? a : b).data.error.code).toBe('RETURN_EXCEEDS_PURCHASED');
    const won = (a.statusCode === 201 ? a : b).data.id as string;
    const [r1, r2] = await Promise.all([receive(won, [{ sku: 'LAST', quantity: 1, restock: true }]), receive(won, [{ sku: 'LAST', quantity: 1, restock: true }])]);
    expect([r1.statusCode, r2.statusCode].sort()).toEqual([200, 409]);
    await runUntilIdle(t.app);
    expect((await getProduct(t.app.db, 'LAST')).onHand).toBe(1);
    expect((await moneyOf(t.app.db, [id])).get(id)).toMatchObject({ capturedCents: 700, refundedCents: 700 });
    expect((await t.admin({ url: `/v1/orders/${id}/payments` })).data.items.filter((e: { kind: string }) => e.kind === 'refund')).toHaveLength(1);
  });
});
