import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/core/config.js';
import { jittered, parseRetrySchedule, retryAfterMs } from '../../src/core/webhooks/retry-schedule.js';
import { newWebhookSecret, webhookHeaders } from '../../src/core/webhooks/signing.js';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { notifyStep } from '../../src/core/pipeline/steps.js';

describe('webhook rules', () => {
  it('when the default schedule is read, then it is 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(loadConfig({}, {}).webhooks.retrySchedule).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(parseRetrySchedule('0, 250ms,2s ,1m,1h')).toEqual([0, 250, 2_000, 60_000, 3_600_000]);
  });

  it('when the schedule setting is not a list of durations, then the configuration is refused naming it', () => {
    expect(() => loadConfig({ BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '5s,soon' }, {})).toThrow(/BUILDFLOW_WEBHOOK_RETRY_SCHEDULE/);
  });

  it('when a delay is jittered, then it stays within ±20 %', () => {
    expect(jittered(1000, () => 0)).toBe(800);
    expect(jittered(1000, () => 0.999999)).toBe(1200);
    for (let i = 0; i < 100; i++) expect(Math.abs(jittered(10_000) - 10_000)).toBeLessThanOrEqual(2_000);
  });

  it('when Retry-After is seconds or a date, then it is read as a wait, capped at a day; otherwise ignored', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Fri, 04 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('999999', now)).toBe(24 * 3_600_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('when headers are made for two secrets, then the reference implementation verifies the body with either', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ type: 'order.confirmed', timestamp: new Date().toISOString(), data: { a: 'é' } });
    const headers = webhookHeaders([a, b], 'msg_test', Date.now(), body);
    expect(new Webhook(a).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(a).verify(body.replace('é', 'e'), headers)).toThrow();
  });
});

for (const backend of BACKENDS) {
  describe(`webhook deliveries are written with the notification [${backend}]`, () => {
    it('when a notify message is delivered twice, then one notification and one delivery exist; when its transaction rolls back, then none', async () => {
      const app = await openTestApp({}, {}, backend);
      try {
        await addProduct(app, 'TX-1', 10);
        const ep = await createEndpoint(app.units, { url: 'http://127.0.0.1:9/never', events: ['order.confirmed'] }, { allowPrivate: true });
        const placed = await app.placeOrder({ items: [{ sku: 'TX-1', quantity: 1 }] });
        await runUntilIdle(app);
        const deliveries = () => app.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', ep.id).execute();
        expect(await deliveries()).toHaveLength(1);

        const ctx = { now: Date.now(), gateway: app.gateway, reservationTtlMs: 1000, captureAt: 'confirm' as const };
        const msg = { id: 10_000, topic: 'notify' as const, orderId: placed.id, payload: { kind: 'order_confirmed' }, attempts: 1 };
        const item = { msg, plan: null, outcome: undefined };
        await app.units.run((uow) => notifyStep.apply(uow, [item], ctx));
        expect(await deliveries()).toHaveLength(1); // the redelivered message inserted nothing

        await app.db.deleteFrom('webhook_deliveries').execute();
        await app.db.deleteFrom('notifications').execute();
        await expect(
          app.units.run(async (uow) => {
            await notifyStep.apply(uow, [item], ctx);
            throw new Error('the state change did not commit');
          }),
        ).rejects.toThrow('did not commit');
        expect(await deliveries()).toHaveLength(0);
        expect(await app.db.selectFrom('notifications').select('id').execute()).toHaveLength(0);
      } finally {
        await app.dispose();
      }
    });
  });
}
