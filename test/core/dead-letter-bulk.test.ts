import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { listDeadLetters } from '../../src/core/outbox/dead-letters.js';
import { bulkDeadLetters, type DeadLetterFilter } from '../../src/core/pipeline/dead-letter-bulk.js';
import { pauseStep, resumeStep } from '../../src/core/pipeline/pauses.js';
import { orderTrace } from '../../src/core/orders/trace.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

/** The provider as the test wants it: authorizations of some amounts fail with a given error; voids and refunds may fail too. */
function failingGateway(a: TestApp, failures: Record<number, string>, refundError?: string): PaymentGateway {
  return {
    async authorize(req) {
      const error = failures[req.amountCents];
      if (error) throw new Error(error);
      return a.gateway.authorize(req);
    },
    capture: (req) => a.gateway.capture(req),
    async void(req) {
      if (refundError) throw new Error(refundError);
      return a.gateway.void(req);
    },
    async refund(req) {
      if (refundError) throw new Error(refundError);
      return a.gateway.refund(req);
    },
  };
}

async function counter(a: TestApp, name: string): Promise<number> {
  const row = await a.db.selectFrom('stats_counters').select((eb) => eb.fn.sum<number | string>('value').as('v')).where('name', '=', name).executeTakeFirst();
  return Number(row?.v ?? 0);
}

const place = async (a: TestApp, sku: string, quantity = 1) => (await a.placeOrder({ items: [{ sku, quantity }] })).order;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) describe(`dead letters in bulk [${backend}]`, () => {
  it('when dead letters are retried by each filter, then a dry run names the same letters as the real run after it, and each run takes only its own', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 1 }, {}, backend));
    await addProduct(a, 'T', 50, 1111); // charges time out
    await addProduct(a, 'B', 50, 2222); // charges meet a bad gateway
    await addProduct(a, 'R', 50, 3333);
    const gateway = failingGateway(a, { 1111: 'gateway timeout after 5000 ms', 2222: 'bad gateway 502' });
    const [t1, t2, t3, b1] = [await place(a, 'T'), await place(a, 'T'), await place(a, 'T'), await place(a, 'B')];
    await runUntilIdle(a, { gateway });
    await sleep(20);
    const between = Date.now();
    await sleep(20);
    // R1 dies at reserve (its delivery there is made the one past the limit), B2 at pay.
    const [r1, b2] = [await place(a, 'R'), await place(a, 'B')];
    await pauseStep(a.units, 'reserve');
    await runUntilIdle(a, { gateway });
    await a.db.updateTable('outbox').set({ attempts: 1 }).where('order_id', '=', r1.id).execute();
    await resumeStep(a.units, 'reserve');
    await runUntilIdle(a, { gateway });
    // Each order that died at pay was compensated, and its settle message (which asks the failing
    // provider about the authorization before voiding it) died too: set those aside first.
    expect((await bulkDeadLetters(a.units, 'discard', { step: 'refund' })).count).toBe(5);
    expect((await listDeadLetters(a.db)).map((d) => d.orderId).sort()).toEqual([t1, t2, t3, b1, r1, b2].map((o) => o.id).sort());
    expect(await counter(a, 'outbox:dead:pay')).toBe(5);

    const cases: [DeadLetterFilter, string[]][] = [
      [{ order: t1.reference }, [t1.reference]],
      [{ step: 'reserve' }, [r1.reference]],
      [{ reason: 'TIMEOUT' }, [t2.reference, t3.reference]],
      [{ since: between }, [b2.reference]],
      [{ until: between }, [b1.reference]],
    ];
    for (const [filter, refs] of cases) {
      const before = await a.db.selectFrom('outbox').selectAll().orderBy('id').execute();
      const dry = await bulkDeadLetters(a.units, 'retry', filter, true);
      expect(dry.items.map((i) => i.reference).sort(), JSON.stringify(filter)).toEqual([...refs].sort());
      expect(await a.db.selectFrom('outbox').selectAll().orderBy('id').execute()).toEqual(before); // the dry run changed nothing
      const real = await bulkDeadLetters(a.units, 'retry', filter);
      expect(real.count, JSON.stringify(filter)).toBe(dry.count);
      expect(real.items.map((i) => i.id)).toEqual(dry.items.map((i) => i.id));
    }
    // Every one was taken exactly once: none is dead now, and nothing else matches.
    expect(await listDeadLetters(a.db)).toEqual([]);
    expect(await counter(a, 'outbox:dead:pay')).toBe(0);
    expect(await counter(a, 'outbox:dead:reserve')).toBe(0);
    await expect(bulkDeadLetters(a.units, 'retry', { all: true }, true)).rejects.toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });
    await expect(bulkDeadLetters(a.units, 'retry', {})).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    // Re-driven: each order was compensated and cancelled when its message died, so its run is over and the message only ends.
    await runUntilIdle(a);
    expect(await a.db.selectFrom('outbox').select('id').where('status', '<>', 'discarded').execute()).toEqual([]);
    for (const o of [t1, r1, b2]) expect(await getOrder(a.db, o.id)).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    expect(await counter(a, 'outbox:pending:pay')).toBe(0);
  });

  it('when dead letters are discarded, then their rows stay as history, they leave the dead letters and the counters, and the dry run names what they hold', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 1 }, {}, backend));
    await addProduct(a, 'A', 10, 1500);
    const gateway = failingGateway(a, {}, 'refund refused');
    const orders = [await place(a, 'A', 2), await place(a, 'A', 1)];
    // Both die at confirm, before their capture; compensation queues the voids of their
    // authorizations, which the provider refuses until those die too. Nothing was captured.
    await pauseStep(a.units, 'confirm');
    await runUntilIdle(a, { gateway });
    await a.db.updateTable('outbox').set({ attempts: 1 }).where('topic', '=', 'confirm').execute();
    await resumeStep(a.units, 'confirm');
    await runUntilIdle(a, { gateway });
    expect((await listDeadLetters(a.db)).map((d) => d.topic).sort()).toEqual(['confirm', 'confirm', 'refund', 'refund']);

    const dry = await bulkDeadLetters(a.units, 'discard', { step: 'refund' }, true);
    expect(dry).toMatchObject({ action: 'discard', dryRun: true, count: 2, stockHeld: 0, capturedCents: 0 });
    expect(await counter(a, 'outbox:dead:refund')).toBe(2);
    const real = await bulkDeadLetters(a.units, 'discard', { step: 'refund' });
    expect(real).toMatchObject({ dryRun: false, count: 2, capturedCents: 0 });

    expect((await listDeadLetters(a.db)).map((d) => d.topic)).toEqual(['confirm', 'confirm']);
    expect(await counter(a, 'outbox:dead:refund')).toBe(0);
    expect(await counter(a, 'outbox:dead:confirm')).toBe(2);
    expect(await counter(a, 'outbox:discarded:refund')).toBe(2);
    const kept = await a.db.selectFrom('outbox').select(['order_id', 'status', 'last_error']).where('topic', '=', 'refund').execute();
    expect(kept.map((k) => [k.status, k.last_error])).toEqual([
      ['discarded', 'refund refused'],
      ['discarded', 'refund refused'],
    ]);
    const trace = await orderTrace(a.db, orders[0]!.reference);
    expect(trace.events.map((e) => e.summary)).toContain('dead-lettered at refund after 1 attempt(s): refund refused (discarded)');
    await expect(bulkDeadLetters(a.units, 'discard', { step: 'refund' })).rejects.toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });
  });
});
