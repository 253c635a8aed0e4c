import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { snapshot } from '../helpers/pipeline.js';
import { claimDue, type OutboxMessage } from '../../src/core/outbox/outbox.js';
import { PipelineRunner } from '../../src/core/pipeline/pipeline-runner.js';
import { silentLogger } from '../../src/worker/logger.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { pauseStep, PauseReader, resumeStep } from '../../src/core/pipeline/pauses.js';

let app: TestApp;
afterEach(async () => app?.dispose());

// Step failures are logged; a redelivery must be acknowledged as already done, not fail.
let problems: string[] = [];
const recordingLogger = {
  ...silentLogger,
  warn: (o: object) => problems.push(JSON.stringify(o)),
  error: (o: object) => problems.push(JSON.stringify(o)),
};

function runner(a: TestApp): PipelineRunner {
  problems = [];
  return new PipelineRunner({ units: a.units, gateway: a.gateway, reservationTtlMs: 60_000, maxAttempts: 5, logger: recordingLogger, pauses: new PauseReader(a.db, 0) });
}

/** Claims the next message and hands it back so the test can deliver it more than once. */
async function nextMessage(a: TestApp): Promise<OutboxMessage | undefined> {
  const [m] = await claimDue(a.db, { workerId: 't', limit: 1, leaseMs: 60_000, now: Date.now() });
  return m;
}

for (const backend of BACKENDS) describe(`redelivery [${backend}]`, () => {
  it.each([['success', 0], ['decline', 1]] as const)(
    'when the order\'s message is delivered a second time at every step of the %s path (sequentially and concurrently), then nothing changes',
    async (_path, declineRate) => {
      app = await openTestApp({ BUILDFLOW_PAYMENT_DECLINE_RATE: declineRate }, {}, backend);
      await addProduct(app, 'A', 5);
      const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
      const r = runner(app);
      // Pausing the later steps stops the run after each step, so each step's delivery can be repeated.
      await pauseStep(app.units, 'pay');
      await pauseStep(app.units, 'confirm');
      const seen: string[] = [];
      const resume = ['pay', 'confirm'];
      for (let m = await nextMessage(app); m; m = await nextMessage(app)) {
        seen.push(m.topic);
        await r.run([m]);
        const after = await snapshot(app);
        await r.run([{ ...m }]);
        await Promise.all([r.run([{ ...m }]), r.run([{ ...m }])]);
        expect(await snapshot(app)).toEqual(after);
        const next = resume.shift();
        if (next) await resumeStep(app.units, next);
      }
      expect(seen).toEqual(declineRate ? ['reserve', 'pay'] : ['reserve', 'pay', 'confirm']);
      expect((await getOrder(app.db, order.id)).status).toBe(declineRate ? 'cancelled' : 'confirmed');
      expect(await app.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
      expect((await snapshot(app)).notifications).toHaveLength(1);
      expect(problems).toEqual([]);
    },
  );

  it('when two copies of a message are handled at once, then the effect happens once', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    const r = runner(app);
    for (let m = await nextMessage(app); m; m = await nextMessage(app)) await Promise.all([r.run([m]), r.run([{ ...m }])]);
    const s = await snapshot(app);
    expect((s.movements as unknown[]).length).toBe(3); // initial stock, reserve, sale
    expect((s.payments as unknown[]).length).toBe(1);
    expect((s.shipments as unknown[]).length).toBe(1);
    expect((s.notifications as unknown[]).length).toBe(1);
    expect(problems).toEqual([]);
  });
});
