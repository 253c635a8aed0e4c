import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/core/outbox/outbox.js';
import { STEPS } from '../../src/core/pipeline/steps.js';
import { addProduct } from '../helpers/test-app.js';
import { runUntilIdle, snapshot } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp, type TestCustomer } from '../helpers/customers.js';

const CARRIER_KEY = 'test-carrier-key-0123456789';
const CARRIER = { authorization: `Bearer ${CARRIER_KEY}` };
let t: TestServer;
let c: TestCustomer;

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_CARRIER_KEY: CARRIER_KEY, BUILDFLOW_MAX_OPEN_ORDERS: 50 });
  await addProduct(t.app, 'HAM-1', 1000, 1250);
  c = await signUp(t, 'shipper');
});
afterAll(async () => t?.dispose());

/** A confirmed order of customer c; returns its id and tracking code. */
async function confirmedOrder(): Promise<{ id: string; trackingCode: string }> {
  const placed = await t.as(c.token, { method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'HAM-1', quantity: 1 }] } });
  await runUntilIdle(t.app);
  const order = await t.as(c.token, { url: `/v1/orders/${placed.data.id}` });
  expect(order.data.status).toBe('confirmed');
  return { id: order.data.id, trackingCode: order.data.trackingCode };
}

const update = (code: string, status: string, headers: Record<string, string> = CARRIER) =>
  t.request({ method: 'POST', url: `/v1/shipments/${code}/status`, payload: { status }, headers });

describe('shipment lifecycle', () => {
  it('when the carrier reports shipped then delivered, then tracking, the order, its history and notifications follow', async () => {
    const { id, trackingCode } = await confirmedOrder();
    const tracked = await t.request({ url: `/v1/tracking/${trackingCode}` });
    expect(tracked.statusCode).toBe(200);
    expect(tracked.data).toEqual({ trackingCode, status: 'pending', history: [{ status: 'pending', at: expect.any(String) }] });

    const shipped = await update(trackingCode, 'shipped');
    expect(shipped.statusCode).toBe(202);
    expect(shipped.data).toEqual({ trackingCode, status: 'pending', requestedStatus: 'shipped' });
    const outbox = await t.app.db.selectFrom('outbox').select(['topic', 'status']).where('order_id', '=', id).where('topic', '=', 'ship').execute();
    expect(outbox).toEqual([{ topic: 'ship', status: 'pending' }]);
    await runUntilIdle(t.app);
    expect((await t.as(c.token, { url: `/v1/orders/${id}` })).data.status).toBe('shipped');

    expect((await update(trackingCode, 'delivered', { authorization: `Bearer ${'test-admin-key-0123456789'}` })).statusCode).toBe(202);
    await runUntilIdle(t.app);

    const final = await t.request({ url: `/v1/tracking/${trackingCode}` });
    expect(final.data.status).toBe('delivered');
    expect(final.data.history.map((h: { status: string }) => h.status)).toEqual(['pending', 'shipped', 'delivered']);
    // Nothing about the order or the customer.
    expect(JSON.stringify(final.data)).not.toMatch(new RegExp(`${id}|${c.id}|${c.email}|BF-|HAM-1|totalCents`));

    const history = await t.as(c.token, { url: `/v1/orders/${id}/history` });
    expect(history.data.items.map((h: { to: string }) => h.to).slice(-3)).toEqual(['confirmed', 'shipped', 'delivered']);
    const notes = await t.as(c.token, { url: `/v1/notifications?order=${id}` });
    expect(notes.data.items.map((n: { kind: string }) => n.kind).sort()).toEqual(['order_confirmed', 'order_delivered', 'order_shipped']);

    const cancel = await t.as(c.token, { method: 'POST', url: `/v1/orders/${id}/cancel` });
    expect(cancel.statusCode).toBe(409);
  });

  it('when an update repeats, goes backwards or skips a step, then 409 SHIPMENT_TRANSITION_INVALID and nothing changes', async () => {
    const { trackingCode } = await confirmedOrder();
    const refused = async (status: string) => {
      const before = await snapshot(t.app);
      const res = await update(trackingCode, status);
      expect(res.statusCode, status).toBe(409);
      expect(res.data.error.code).toBe('SHIPMENT_TRANSITION_INVALID');
      expect(await snapshot(t.app)).toEqual(before);
    };
    await refused('delivered'); // skips shipped
    expect((await update(trackingCode, 'shipped')).statusCode).toBe(202);
    await refused('shipped'); // repeated while the first is being applied
    await refused('delivered'); // before shipped was applied
    await runUntilIdle(t.app);
    await refused('shipped'); // repeated
    expect((await update(trackingCode, 'delivered')).statusCode).toBe(202);
    await runUntilIdle(t.app);
    await refused('shipped'); // backwards
    await refused('delivered'); // repeated
    const bad = await update(trackingCode, 'pending');
    expect(bad.statusCode).toBe(400);
  });

  it('when the same update arrives many times at once, then one is accepted and applied once', async () => {
    const { id, trackingCode } = await confirmedOrder();
    const results = await Promise.all(Array.from({ length: 10 }, () => update(trackingCode, 'shipped')));
    expect(results.filter((r) => r.statusCode === 202)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(9);
    await runUntilIdle(t.app);
    const rows = await t.app.db.selectFrom('shipment_history').selectAll().where('order_id', '=', id).execute();
    expect(rows).toHaveLength(1);
    const notes = await t.app.db.selectFrom('notifications').select('kind').where('order_id', '=', id).where('kind', '=', 'order_shipped').execute();
    expect(notes).toHaveLength(1);
  });

  it('when a ship message is delivered twice, then the second delivery changes nothing', async () => {
    const { trackingCode } = await confirmedOrder();
    expect((await update(trackingCode, 'shipped')).statusCode).toBe(202);
    const [msg] = (await claimDue(t.app.db, { workerId: 'test', limit: 100, leaseMs: 30_000, now: Date.now() })).filter((m) => m.topic === 'ship');
    const ctx = { now: Date.now(), gateway: t.app.gateway, reservationTtlMs: 1000, captureAt: 'confirm' as const };
    await t.app.units.run((uow) => STEPS.ship.apply(uow, [{ msg: msg!, plan: null, outcome: undefined }], ctx));
    const after = await snapshot(t.app);
    await t.app.units.run((uow) => STEPS.ship.apply(uow, [{ msg: msg!, plan: null, outcome: undefined }], ctx));
    expect(await snapshot(t.app)).toEqual(after);
    await t.app.db.updateTable('outbox').set({ status: 'done' }).where('id', '=', msg!.id).execute();
  });

  it('when the caller is not the admin or the carrier, then 401/403; an unknown code is 404', async () => {
    const { trackingCode } = await confirmedOrder();
    expect((await update(trackingCode, 'shipped', {})).statusCode).toBe(401);
    const asCustomer = await update(trackingCode, 'shipped', { authorization: `Bearer ${c.token}` });
    expect(asCustomer.statusCode).toBe(403);
    expect((await update(trackingCode, 'shipped', { authorization: 'Bearer not-the-carrier-key-000' })).statusCode).toBe(401);
    const unknown = await update('TRK000000000000', 'shipped');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.data.error.code).toBe('SHIPMENT_NOT_FOUND');
    expect((await t.request({ url: '/v1/tracking/TRK000000000000' })).statusCode).toBe(404);
    expect((await t.request({ url: '/v1/tracking/not-a-code!' })).statusCode).toBe(400);
    // The carrier key opens nothing else.
    expect((await t.request({ url: '/v1/orders', headers: CARRIER })).statusCode).toBe(403);
  });
});
