import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { makeAllDue, runUntilIdle } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp } from '../helpers/customers.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_MAX_ATTEMPTS: 2 });
  await addProduct(t.app, 'A', 100, 1000);
  await addProduct(t.app, 'F', 100, 7777); // its charges fail
});
afterAll(async () => t?.dispose());

async function place(token?: string, sku = 'A', quantity = 1) {
  const options = { method: 'POST' as const, url: '/v1/orders', payload: { items: [{ sku, quantity }] } };
  const res = token ? await t.as(token, options) : await t.admin(options);
  expect(res.statusCode, res.body).toBe(201);
  return res.data as { id: string; reference: string };
}

/** Authorizations for F (7777 a unit) fail `failures` times in all, then go through. */
function flakyGateway(failures: { left: number }): PaymentGateway {
  return {
    async authorize(req) {
      if (req.amountCents % 7777 === 0 && failures.left > 0) {
        failures.left--;
        throw new Error('provider timeout');
      }
      return t.app.gateway.authorize(req);
    },
    capture: (req) => t.app.gateway.capture(req),
    void: (req) => t.app.gateway.void(req),
    refund: (req) => t.app.gateway.refund(req),
  };
}

describe('pipeline pause over HTTP', () => {
  it('when an admin pauses pay, then the status shows it with its reason and the waiting orders and stock; resume runs them; a customer is refused', async () => {
    const paused = await t.admin({ method: 'POST', url: '/v1/admin/pipeline/pay/pause', payload: { reason: 'provider outage' } });
    expect(paused.statusCode, paused.body).toBe(200);
    const order = await place(undefined, 'A', 3);
    await runUntilIdle(t.app);
    const status = await t.admin({ method: 'GET', url: '/v1/admin/pipeline' });
    expect(status.data.steps.map((s: { step: string }) => s.step)).toEqual(['reserve', 'pay', 'confirm']);
    expect(status.data.steps[1]).toMatchObject({ step: 'pay', paused: true, reason: 'provider outage', waitingOrders: 1, stockHeld: 3 });
    expect(Date.parse(status.data.steps[1].pausedAt)).toBeLessThanOrEqual(Date.now());
    expect(status.data.steps[0]).toMatchObject({ paused: false, reason: null, pausedAt: null, waitingOrders: 0, stockHeld: 0, oldestWaitingSince: null });

    const customer = await signUp(t);
    expect((await t.as(customer.token, { method: 'GET', url: '/v1/admin/pipeline' })).statusCode).toBe(403);
    expect((await t.as(customer.token, { method: 'POST', url: '/v1/admin/pipeline/pay/resume', payload: {} })).statusCode).toBe(403);

    const resumed = await t.admin({ method: 'POST', url: '/v1/admin/pipeline/pay/resume', payload: {} });
    expect(resumed.data).toMatchObject({ resumed: true });
    await runUntilIdle(t.app);
    expect((await t.admin({ method: 'GET', url: `/v1/orders/${order.id}` })).data.status).toBe('confirmed');
    expect((await t.admin({ method: 'POST', url: '/v1/admin/pipeline/pay/resume', payload: {} })).data).toMatchObject({ resumed: false });
  });

  it('when the step is unknown or the reason too long, then 404 or 400 in the error shape', async () => {
    const unknown = await t.admin({ method: 'POST', url: '/v1/admin/pipeline/ship/pause', payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.data.error).toMatchObject({ code: 'STEP_UNKNOWN' });
    const long = await t.admin({ method: 'POST', url: '/v1/admin/pipeline/pay/pause', payload: { reason: 'x'.repeat(501) } });
    expect(long.statusCode).toBe(400);
    expect(long.data.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('dead letters in bulk over HTTP', () => {
  it('when no filter is named, then 400; when nothing matches, then 404', async () => {
    const none = await t.admin({ method: 'POST', url: '/v1/admin/dead-letters/retry', payload: {} });
    expect(none.statusCode).toBe(400);
    const nothing = await t.admin({ method: 'POST', url: '/v1/admin/dead-letters/discard', payload: { all: true, dryRun: true } });
    expect(nothing.statusCode).toBe(404);
    expect(nothing.data.error.code).toBe('DEAD_LETTER_NOT_FOUND');
  });
});

describe('order trace', () => {
  it('when an order is retried, dead-lettered and re-driven, then its trace shows each, in time order; the owner sees it without internal entries', async () => {
    const customer = await signUp(t, 'traced');
    const order = await place(customer.token, 'F', 2);
    const failures = { left: 2 };
    const gateway = flakyGateway(failures);
    await runUntilIdle(t.app, { gateway });
    // First failure: the message waits for its retry, the error recorded.
    let trace = (await t.admin({ method: 'GET', url: `/v1/orders/${order.reference}/trace` })).data;
    expect(trace.events.map((e: { summary: string }) => e.summary)).toContain('pay failed 1 time(s), retrying: provider timeout');

    await makeAllDue(t.app);
    await runUntilIdle(t.app, { gateway }); // second failure: out of attempts, dead-lettered, compensated
    trace = (await t.admin({ method: 'GET', url: `/v1/orders/${order.reference}/trace` })).data;
    const summaries: string[] = trace.events.map((e: { summary: string }) => e.summary);
    expect(summaries).toContain('dead-lettered at pay after 2 attempt(s): provider timeout');
    expect(summaries).toContain('reserved → cancelled (failed)');

    const redriven = await t.admin({ method: 'POST', url: '/v1/admin/dead-letters/retry', payload: { order: order.reference } });
    expect(redriven.data).toMatchObject({ count: 1, items: [{ reference: order.reference, step: 'pay', orderStatus: 'cancelled' }] });
    trace = (await t.admin({ method: 'GET', url: `/v1/orders/${order.id}/trace` })).data;
    const kinds = trace.events.map((e: { kind: string; summary: string }) => `${e.kind}: ${e.summary}`);
    const at = (text: string) => kinds.findIndex((k: string) => k.includes(text));
    for (const text of ['new → pending', 'pending → reserved', 'reserve F', 'dead-lettered at pay', 'reserved → cancelled (failed)', 'release F', 'order_cancelled', 're-driven']) expect(at(text), text).toBeGreaterThanOrEqual(0);
    expect(at('new → pending')).toBeLessThan(at('pending → reserved'));
    expect(at('pending → reserved')).toBeLessThan(at('dead-lettered at pay'));
    expect(at('dead-lettered at pay')).toBeLessThan(at('re-driven'));
    const times = trace.events.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);

    const owner = (await t.as(customer.token, { method: 'GET', url: `/v1/orders/${order.reference}/trace` })).data;
    expect(owner.events.length).toBeGreaterThan(0);
    expect(owner.events.filter((e: { kind: string }) => e.kind === 'step' || e.kind === 'webhook')).toEqual([]);
    const stranger = await signUp(t, 'stranger');
    expect((await t.as(stranger.token, { method: 'GET', url: `/v1/orders/${order.reference}/trace` })).statusCode).toBe(404);

    // The re-driven message finds its order's run over (cancelled) and ends; the order stays as it is.
    await runUntilIdle(t.app, { gateway });
    expect((await t.admin({ method: 'GET', url: `/v1/orders/${order.id}` })).data).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
  });

  it('when an order goes through, then its trace has its transitions, payment, stock movements and notification', async () => {
    const order = await place(undefined, 'A', 1);
    await runUntilIdle(t.app);
    const trace = (await t.admin({ method: 'GET', url: `/v1/orders/${order.id}/trace` })).data;
    expect(trace).toMatchObject({ orderId: order.id, reference: order.reference, status: 'confirmed' });
    const kinds = new Set(trace.events.map((e: { kind: string }) => e.kind));
    for (const k of ['transition', 'payment', 'stock', 'notification']) expect(kinds.has(k), k).toBe(true);
    expect(trace.events.find((e: { kind: string; detail: { status?: string } }) => e.kind === 'payment' && e.detail.status === 'captured')).toBeDefined();
  });
});
