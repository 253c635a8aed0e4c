import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { makeAllDue, runUntilIdle } from '../helpers/pipeline.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { listDeadLetters } from '../../src/core/outbox/dead-letters.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { SimulatedPaymentGateway, type MoneyRequest, type PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { authorizationKey } from '../../src/core/payments/ledger.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

const provider = (a: TestApp) => a.gateway as SimulatedPaymentGateway;

const ledgerOf = async (a: TestApp, orderId: string) =>
  (await a.db.selectFrom('payment_ledger').select(['kind', 'status', 'amount_cents', 'idempotency_key']).where('order_id', '=', orderId).orderBy('id').execute()).map((r) => ({
    kind: r.kind,
    status: r.status,
    amountCents: Number(r.amount_cents),
    key: r.idempotency_key,
  }));

/** The provider acts on the first call of each capture key and the answer never arrives: the worker dies between call and commit. */
function losesFirstCaptureAnswer(a: TestApp): PaymentGateway & { captureCalls: number } {
  const seen = new Set<string>();
  const g = {
    captureCalls: 0,
    authorize: (r: Parameters<PaymentGateway['authorize']>[0]) => a.gateway.authorize(r),
    async capture(r: MoneyRequest) {
      g.captureCalls++;
      const answer = await a.gateway.capture(r);
      if (!seen.has(r.idempotencyKey)) {
        seen.add(r.idempotencyKey);
        throw new Error('connection reset after the provider captured');
      }
      return answer;
    },
    void: (r: MoneyRequest) => a.gateway.void(r),
    refund: (r: MoneyRequest) => a.gateway.refund(r),
  };
  return g;
}

for (const backend of BACKENDS) describe(`payment ledger [${backend}]`, () => {
  it('when an order goes through, then the ledger holds its authorization and the capture of its total, and the provider books the same', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 1250);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('confirmed');
    expect(await ledgerOf(a, order.id)).toEqual([
      { kind: 'authorization', status: 'succeeded', amountCents: 2500, key: authorizationKey(order.id) },
      { kind: 'capture', status: 'succeeded', amountCents: 2500, key: `${authorizationKey(order.id)}:capture:1` },
    ]);
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'captured' });
    const books = await provider(a).books(authorizationKey(order.id));
    expect(books.charge).toMatchObject({ amount_cents: 2500, outcome: 'captured', captured_cents: 2500, refunded_cents: 0, voided_cents: 0, calls: 1 });
    expect(books.operations.map((o) => [o.kind, o.amount_cents, o.outcome, o.calls])).toEqual([['capture', 2500, 'succeeded', 1]]);
  });

  it('when the provider captures and its answer is lost, then the retry under the same key captures nothing more and the ledger has one capture', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 1000);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 3 }] });
    const gateway = losesFirstCaptureAnswer(a);
    for (let i = 0; i < 5 && (await getOrder(a.db, order.id)).status !== 'confirmed'; i++) {
      await runUntilIdle(a, { gateway });
      await makeAllDue(a);
    }
    expect((await getOrder(a.db, order.id)).status).toBe('confirmed');
    expect(gateway.captureCalls).toBe(2);
    expect((await ledgerOf(a, order.id)).map((r) => [r.kind, r.status, r.amountCents])).toEqual([
      ['authorization', 'succeeded', 3000],
      ['capture', 'succeeded', 3000],
    ]);
    const books = await provider(a).books(authorizationKey(order.id));
    expect(books.charge).toMatchObject({ captured_cents: 3000 });
    expect(books.operations.map((o) => [o.kind, o.amount_cents, o.outcome, o.calls])).toEqual([['capture', 3000, 'succeeded', 2]]);
  });

  it('when a capture\'s answer is lost and the order is then dead-lettered, then its money is learnt under the same key and refunded in full, never captured twice', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 1 }, {}, backend));
    await addProduct(a, 'A', 5, 1000);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    const gateway = losesFirstCaptureAnswer(a);
    await runUntilIdle(a, { gateway });
    await makeAllDue(a);
    await runUntilIdle(a, { gateway });

    expect(await getOrder(a.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    expect((await listDeadLetters(a.db)).map((d) => d.topic)).toEqual(['confirm']);
    expect((await ledgerOf(a, order.id)).map((r) => [r.kind, r.status, r.amountCents])).toEqual([
      ['authorization', 'succeeded', 2000],
      ['capture', 'succeeded', 2000],
      ['refund', 'succeeded', 2000],
    ]);
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'refunded' });
    const books = await provider(a).books(authorizationKey(order.id));
    expect(books.charge).toMatchObject({ captured_cents: 2000, refunded_cents: 2000, voided_cents: 0, refunded: 1 });
    expect(books.operations.map((o) => [o.kind, o.outcome, o.calls])).toEqual([
      ['capture', 'succeeded', 2],
      ['refund', 'succeeded', 1],
    ]);
    expect(await getProduct(a.db, 'A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await findStockDrift(a.db)).toEqual([]);
    expect(await a.db.selectFrom('outbox').select('topic').where('status', '=', 'pending').execute()).toEqual([]);
  });

  it('when the shop captures at shipment, then a confirmed order is only authorized and the shipment captures its total', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_CAPTURE_AT: 'shipped' }, {}, backend));
    await addProduct(a, 'A', 5, 700);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('confirmed');
    expect((await ledgerOf(a, order.id)).map((r) => [r.kind, r.status])).toEqual([['authorization', 'succeeded']]);
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'authorized' });

    const { tracking_code } = await a.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    await requestShipmentUpdate(a.units, tracking_code, 'shipped');
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('shipped');
    expect((await ledgerOf(a, order.id)).map((r) => [r.kind, r.status, r.amountCents])).toEqual([
      ['authorization', 'succeeded', 700],
      ['capture', 'succeeded', 700],
    ]);
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'captured' });
  });

  it('when a payment is declined, then the ledger keeps the failed authorization and nothing else', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_PAYMENT_DECLINE_RATE: 1 }, {}, backend));
    await addProduct(a, 'A', 5, 700);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await runUntilIdle(a);
    expect(await getOrder(a.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'payment_declined' });
    expect((await ledgerOf(a, order.id)).map((r) => [r.kind, r.status])).toEqual([['authorization', 'failed']]);
    expect(await a.db.selectFrom('outbox').select('topic').execute()).toEqual([]);
  });
});

for (const backend of BACKENDS) describe(`simulated payment provider [${backend}]`, () => {
  const key = 'order:sim-test:charge';
  const ref = `sim_${key}`;
  const money = (idempotencyKey: string, amountCents: number): MoneyRequest => ({ idempotencyKey, authorizationRef: ref, amountCents });

  it('when asked again under a key, then it answers as the first time and moves no money; it never captures past the authorization nor refunds past the capture', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    const p = provider(a);
    expect(await p.authorize({ idempotencyKey: key, amountCents: 1000 })).toEqual({ outcome: 'authorized', providerRef: ref });
    expect((await p.capture(money('c1', 600))).outcome).toBe('succeeded');
    expect((await p.capture(money('c1', 600))).outcome).toBe('succeeded');
    expect((await p.capture(money('c2', 500))).outcome).toBe('failed'); // 600 + 500 > 1000
    expect((await p.refund(money('r1', 700))).outcome).toBe('failed'); // more than captured
    expect((await p.refund(money('r2', 200))).outcome).toBe('succeeded');
    expect((await p.void(money('v1', 400))).outcome).toBe('succeeded');
    expect((await p.capture(money('c3', 1))).outcome).toBe('failed'); // nothing left after the void
    const books = await p.books(key);
    expect(books.charge).toMatchObject({ amount_cents: 1000, captured_cents: 600, refunded_cents: 200, voided_cents: 400, refunded: 0 });
    expect(books.operations.find((o) => o.idempotency_key === 'c1')).toMatchObject({ outcome: 'succeeded', calls: 2 });
  });

  it('when captures come as one batch, then each answers as it would alone: a key seen before its first answer, one past its authorization refused, two of one authorization one by one', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    const p = provider(a);
    const keys = ['order:batch-a:charge', 'order:batch-b:charge', 'order:batch-c:charge'];
    await p.authorizeAll(keys.map((k) => ({ idempotencyKey: k, amountCents: 1000 })));
    const capture = (idempotencyKey: string, chargeKey: string, amountCents: number): MoneyRequest => ({ idempotencyKey, authorizationRef: `sim_${chargeKey}`, amountCents });
    expect((await p.capture(capture('a1', keys[0]!, 700))).outcome).toBe('succeeded');

    const answers = await p.captureAll([capture('a1', keys[0]!, 700), capture('b1', keys[1]!, 1000), capture('c1', keys[2]!, 1001)]);
    expect(answers.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(answers[1]!.providerRef).toBe((await p.capture(capture('b1', keys[1]!, 1000))).providerRef);
    expect((await p.books(keys[0]!)).charge).toMatchObject({ captured_cents: 700 });
    expect((await p.books(keys[0]!)).operations).toMatchObject([{ idempotency_key: 'a1', outcome: 'succeeded', calls: 2 }]);
    expect((await p.books(keys[1]!)).charge).toMatchObject({ outcome: 'captured', captured_cents: 1000 });
    expect((await p.books(keys[2]!)).charge).toMatchObject({ outcome: 'authorized', captured_cents: 0 });
    expect((await p.books(keys[2]!)).operations).toMatchObject([{ idempotency_key: 'c1', outcome: 'failed', calls: 1 }]);

    // Two new captures of one authorization: 600 fits, 500 more does not.
    const twice = await p.captureAll([capture('c2', keys[2]!, 600), capture('c3', keys[2]!, 500)]);
    expect(twice.map((r) => r.outcome)).toEqual(['succeeded', 'failed']);
    expect((await p.books(keys[2]!)).charge).toMatchObject({ captured_cents: 600 });
  });

  it('when told to fail, then it throws before acting; when told to time out, then it acts and throws', async () => {
    const failing = (app = await openTestApp({ BUILDFLOW_PAYMENT_FAILURE_RATE: 1 }, {}, backend));
    await expect(failing.gateway.authorize({ idempotencyKey: key, amountCents: 1000 })).rejects.toThrow('unavailable');
    expect((await provider(failing).books(key)).charge).toBeUndefined();
    await failing.dispose();

    const slow = (app = await openTestApp({ BUILDFLOW_PAYMENT_TIMEOUT_RATE: 1 }, {}, backend));
    await expect(slow.gateway.authorize({ idempotencyKey: key, amountCents: 1000 })).rejects.toThrow('timed out');
    expect((await provider(slow).books(key)).charge).toMatchObject({ outcome: 'authorized', amount_cents: 1000 });
    await expect(slow.gateway.capture(money('c1', 1000))).rejects.toThrow('timed out');
    await expect(slow.gateway.capture(money('c1', 1000))).rejects.toThrow('timed out');
    expect((await provider(slow).books(key)).charge).toMatchObject({ captured_cents: 1000 });
  });
});
