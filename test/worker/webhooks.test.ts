import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { makeAllDue, runUntilIdle } from '../helpers/pipeline.js';
import { ADMIN } from '../helpers/server.js';
import { WebhookReceiver, waitFor, type Received } from '../helpers/webhook-receiver.js';
import { buildServer } from '../../src/server/build-server.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { startDeliveries, type RunningDeliveries } from '../../src/worker/delivery-workers.js';
import { silentLogger } from '../../src/worker/logger.js';
import { adjustStock } from '../../src/core/catalog/products.js';

const ADMIN_KEY = ADMIN.authorization.slice('Bearer '.length);
// Short retries and timeouts so a test sees a whole schedule in well under a second.
const SETTINGS = {
  BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1',
  BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms,100ms',
  BUILDFLOW_WEBHOOK_TIMEOUT_MS: 400,
};

for (const backend of BACKENDS) {
  describe(`webhook delivery [${backend}]`, () => {
    let app: TestApp;
    let server: FastifyInstance;
    let deliveries: RunningDeliveries;
    const receivers: WebhookReceiver[] = [];

    beforeAll(async () => {
      app = await openTestApp(SETTINGS, {}, backend);
      server = await buildServer(app, { adminKey: ADMIN_KEY });
      await addProduct(app, 'HOOK-1', 10_000, 1250);
      deliveries = startDeliveries(app, { logger: silentLogger, pollMs: 20 });
    });
    afterEach(async () => {
      // Each test's endpoints go with it, so the next test's orders are not delivered to them.
      for (const ep of (await api('GET', '/v1/webhooks')).data.items) expect((await api('DELETE', `/v1/webhooks/${ep.id}`)).status).toBe(204);
      expect(await app.db.selectFrom('webhook_deliveries').select('id').execute()).toEqual([]);
      for (const r of receivers.splice(0)) await r.close();
    });
    afterAll(async () => {
      await deliveries?.stop();
      await server?.close();
      await app?.dispose();
    });

    const api = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
      const res = await server.inject({ method, url, headers: ADMIN, ...(payload === undefined ? {} : { payload: payload as object }) });
      return { status: res.statusCode, data: res.body ? res.json() : undefined };
    };

    async function receiver(answer?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
      const r = await new WebhookReceiver(answer).start();
      receivers.push(r);
      return r;
    }

    async function register(url: string, events = ['order.confirmed']): Promise<{ id: string; secret: string }> {
      const res = await api('POST', '/v1/webhooks', { url, events, description: 'test receiver' });
      expect(res.status, JSON.stringify(res.data)).toBe(201);
      return res.data;
    }

    async function confirmedOrder(): Promise<string> {
      const placed = await app.placeOrder({ items: [{ sku: 'HOOK-1', quantity: 1 }] });
      // Until its notification is written: a step that failed once waits out its backoff.
      await waitFor('the order to be notified', async () => {
        await runUntilIdle(app);
        const note = await app.db.selectFrom('notifications').select('id').where('order_id', '=', placed.id).executeTakeFirst();
        if (!note) await makeAllDue(app);
        return note !== undefined;
      });
      return placed.id;
    }

    const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers) as { type: string; data: any };

    it('when an order is confirmed, then the endpoint gets one order.confirmed that the standardwebhooks package verifies, and the log shows it delivered', async () => {
      const r = await receiver();
      const ep = await register(`${r.url}/hooks`);
      expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      const orderId = await confirmedOrder();
      await waitFor('the delivery', () => r.received.length === 1);

      const got = r.received[0]!;
      expect(got.headers['webhook-id']).toMatch(/^msg_/);
      expect(got.headers['content-type']).toBe('application/json');
      const payload = verify(ep.secret, got);
      expect(payload.type).toBe('order.confirmed');
      expect(payload.data).toMatchObject({ version: 1, sequence: 1, order: { id: orderId, status: 'confirmed', totalCents: 1250 } });
      expect(Date.parse((payload as any).timestamp)).not.toBeNaN();
      // A signature under another secret does not verify.
      expect(() => verify('whsec_' + Buffer.alloc(32, 7).toString('base64'), got)).toThrow();

      await waitFor('the log', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items[0]?.status === 'delivered');
      const log = (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items;
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ id: got.headers['webhook-id'], eventType: 'order.confirmed', orderId, sequence: 1, status: 'delivered', attempts: 1 });
      expect(log[0].log).toEqual([{ at: expect.any(String), durationMs: expect.any(Number), statusCode: 200, response: '{"ok":true}' }]);
      // The secret is shown once: never in reads.
      expect(JSON.stringify((await api('GET', `/v1/webhooks/${ep.id}`)).data)).not.toContain(ep.secret);
    });

    it('when the receiver fails the first 2 attempts, then it gets the event on the 3rd under the same webhook-id, with 3 attempts logged', async () => {
      const r = await receiver((n, _req, reply) => (n < 2 ? reply.code(500).send('boom') : { ok: true }));
      const ep = await register(`${r.url}/flaky`);
      await confirmedOrder();
      await waitFor('three attempts', () => r.received.length === 3);
      expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
      for (const x of r.received) expect(verify(ep.secret, x).type).toBe('order.confirmed');
      await waitFor('delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items[0]?.status === 'delivered');
      const [d] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items;
      expect(d.attempts).toBe(3);
      expect(d.log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 200]);
      expect(d.log[0].response).toBe('boom');
    });

    it('when the receiver always fails, then the delivery is dead after the schedule, and a replay delivers it under the same id', async () => {
      let healthy = false;
      const r = await receiver((_n, _req, reply) => (healthy ? { ok: true } : reply.code(502).send('down')));
      const ep = await register(`${r.url}/down`);
      await confirmedOrder();
      await waitFor('dead', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=dead`)).data.items.length === 1);
      expect(r.received).toHaveLength(4); // the schedule has four entries
      const [dead] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items;
      expect(dead.lastError).toMatch(/answered 502; gave up after 4 attempts/);

      healthy = true;
      const replayed = await api('POST', `/v1/webhooks/${ep.id}/deliveries/${dead.id}/replay`);
      expect(replayed.status).toBe(202);
      expect(replayed.data).toMatchObject({ id: dead.id, status: 'pending', attempts: 0 });
      await waitFor('the replay', () => r.received.length === 5);
      expect(r.received[4]!.headers['webhook-id']).toBe(dead.id);
      await waitFor('delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries/${dead.id}`)).data.status === 'delivered');
      expect((await api('GET', `/v1/webhooks/${ep.id}/deliveries/${dead.id}`)).data.log).toHaveLength(5);
    });

    it('when dead deliveries are replayed since a time, then every one of them is sent again', async () => {
      let healthy = false;
      const r = await receiver((_n, _req, reply) => (healthy ? { ok: true } : reply.code(500).send()));
      const ep = await register(`${r.url}/batch`);
      const since = new Date().toISOString();
      await confirmedOrder();
      await confirmedOrder();
      await waitFor('two dead', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=dead`)).data.items.length === 2);
      healthy = true;
      const res = await api('POST', `/v1/webhooks/${ep.id}/replay`, { since });
      expect(res).toEqual({ status: 202, data: { replayed: 2 } });
      await waitFor('both delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=delivered`)).data.items.length === 2);
    });

    it('when the receiver answers 410, then the endpoint is disabled and gets nothing more', async () => {
      const r = await receiver((_n, _req, reply) => reply.code(410).send());
      const ep = await register(`${r.url}/gone`);
      await confirmedOrder();
      await waitFor('disabled', async () => (await api('GET', `/v1/webhooks/${ep.id}`)).data.enabled === false);
      expect((await api('GET', `/v1/webhooks/${ep.id}`)).data.disabledReason).toMatch(/410/);
      await confirmedOrder();
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received).toHaveLength(1);
      const [d] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=dead`)).data.items;
      expect(d.lastError).toMatch(/410/);
    });

    it('when the receiver is slower than the timeout, then the attempt times out and the next one succeeds', async () => {
      const r = await receiver(async (n) => {
        if (n === 0) await new Promise((res) => setTimeout(res, 1500));
        return { ok: true };
      });
      const ep = await register(`${r.url}/slow`);
      await confirmedOrder();
      await waitFor('delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items[0]?.status === 'delivered');
      const [d] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items;
      expect(d.log).toHaveLength(2);
      expect(d.log[0].statusCode).toBeUndefined();
      expect(d.log[0].error).toMatch(/no answer within 400 ms/);
      expect(d.log[1].statusCode).toBe(200);
    });

    it('when the receiver redirects, then the redirect is not followed and the attempt counts as failed', async () => {
      const r = await receiver((_n, req, reply) => (req.path === '/moved' ? reply.redirect('/elsewhere', 302) : { ok: true }));
      const ep = await register(`${r.url}/moved`);
      await confirmedOrder();
      await waitFor('dead', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items[0]?.status === 'dead');
      expect(r.on('/elsewhere')).toHaveLength(0);
      const [d] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items;
      expect(d.log[0]).toMatchObject({ statusCode: 302, error: 'answered 302 (redirects are not followed)' });
    });

    it('when the receiver answers 429 with Retry-After, then the next attempt waits that long instead of the schedule', async () => {
      const r = await receiver((n, _req, reply) => (n === 0 ? reply.code(429).header('retry-after', '1').send() : { ok: true }));
      const ep = await register(`${r.url}/busy`);
      await confirmedOrder();
      await waitFor('two attempts', () => r.received.length === 2);
      // The schedule would retry after ~100 ms; Retry-After asked for a second.
      expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(950);
      await waitFor('delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries`)).data.items[0]?.status === 'delivered');
    });

    it('when the secret is rotated, then deliveries carry both signatures and each secret verifies them', async () => {
      const r = await receiver();
      const ep = await register(`${r.url}/rotated`);
      const rotated = await api('POST', `/v1/webhooks/${ep.id}/rotate`);
      expect(rotated.status).toBe(200);
      expect(rotated.data.secret).not.toBe(ep.secret);
      expect(Date.parse(rotated.data.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
      await confirmedOrder();
      await waitFor('the delivery', () => r.received.length === 1);
      const got = r.received[0]!;
      expect(got.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(verify(ep.secret, got).type).toBe('order.confirmed');
      expect(verify(rotated.data.secret, got).type).toBe('order.confirmed');
    });

    it('when an endpoint is disabled, then it gets nothing; enabled again, it gets later events', async () => {
      const r = await receiver();
      const ep = await register(`${r.url}/toggle`);
      expect((await api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: false })).data).toMatchObject({ enabled: false, disabledReason: 'disabled by the admin' });
      await confirmedOrder();
      await new Promise((res) => setTimeout(res, 200));
      expect(r.received).toHaveLength(0);
      expect((await api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: true })).data.enabled).toBe(true);
      await confirmedOrder();
      await waitFor('the delivery', () => r.received.length === 1);
    });

    it('when an endpoint with deliveries in backoff is disabled, then they are dead at once; a replay is refused with 409 until it is enabled, then delivered', async () => {
      let healthy = false;
      const r = await receiver((_n, _req, reply) => (healthy ? { ok: true } : reply.code(503).send()));
      const ep = await register(`${r.url}/backoff`);
      const since = new Date().toISOString();
      const orderId = await confirmedOrder();
      await waitFor('a failed attempt', () => r.received.length >= 1);
      const reference = (await app.db.selectFrom('orders').select('reference').where('id', '=', orderId).executeTakeFirstOrThrow()).reference;
      const [pending] = (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=pending`)).data.items;
      expect(pending).toMatchObject({ orderId, orderReference: reference, nextAttemptAt: expect.any(String) });

      expect((await api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: false })).status).toBe(200);
      // At once: no wait for the next scheduled attempt.
      const dead = (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=dead`)).data.items;
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id: pending.id, lastError: 'endpoint disabled: disabled by the admin' });
      expect((await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=pending`)).data.items).toEqual([]);

      healthy = true;
      for (const [url, body] of [[`/v1/webhooks/${ep.id}/deliveries/${pending.id}/replay`, undefined], [`/v1/webhooks/${ep.id}/replay`, { since }]] as const) {
        const refused = await api('POST', url, body);
        expect(refused.status).toBe(409);
        expect(refused.data.error).toEqual({
          code: 'WEBHOOK_ENDPOINT_DISABLED',
          message: `webhook endpoint ${ep.id} is disabled (disabled by the admin): enable it first (buildflow webhook enable ${ep.id}), then replay`,
        });
      }
      expect((await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=dead`)).data.items).toHaveLength(1);

      expect((await api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: true })).status).toBe(200);
      expect(await api('POST', `/v1/webhooks/${ep.id}/replay`, { since })).toEqual({ status: 202, data: { replayed: 1 } });
      await waitFor('delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries/${pending.id}`)).data.status === 'delivered');
    });

    it('when event 1 of an order keeps failing, then events 2 and 3 of that order wait for it and arrive in sequence', async () => {
      let confirmedFailures = 0;
      const r = await receiver((_n, req, reply) => {
        if ((JSON.parse(req.body) as { type: string }).type === 'order.confirmed' && confirmedFailures++ < 3) return reply.code(500).send();
        return { ok: true };
      });
      const ep = await register(`${r.url}/ordered`, ['order.confirmed', 'order.shipped', 'order.delivered']);
      const orderId = await confirmedOrder();
      const { tracking_code } = await app.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', orderId).executeTakeFirstOrThrow();
      for (const status of ['shipped', 'delivered'] as const) {
        await requestShipmentUpdate(app.units, tracking_code, status);
        await runUntilIdle(app);
      }
      // All three exist while the first is still failing.
      expect((await app.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', ep.id).execute()).length).toBe(3);
      await waitFor('all three delivered', async () => (await api('GET', `/v1/webhooks/${ep.id}/deliveries?status=delivered`)).data.items.length === 3);
      const firstArrival = new Map<string, number>();
      r.received.forEach((x, i) => {
        const id = x.headers['webhook-id']!;
        if (!firstArrival.has(id)) firstArrival.set(id, i);
      });
      const arrivals = [...firstArrival.keys()].map((id) => verify(ep.secret, r.received.find((x) => x.headers['webhook-id'] === id)!));
      expect(arrivals.map((p) => [p.type, p.data.sequence])).toEqual([
        ['order.confirmed', 1],
        ['order.shipped', 2],
        ['order.delivered', 3],
      ]);
      // Nothing of event 2 went out before event 1 was delivered (its 4th attempt).
      const confirmedDone = r.received.filter((x) => verify(ep.secret, x).type === 'order.confirmed').length;
      expect(confirmedDone).toBe(4);
      const firstLater = r.received.findIndex((x) => verify(ep.secret, x).type !== 'order.confirmed');
      expect(firstLater).toBe(4);
    });

    it('when a sale or an adjustment takes stock on hand to the threshold or below, then stock.low is sent once per crossing', async () => {
      await addProduct(app, 'LOW-1', 5, 100);
      const r = await receiver();
      const ep = (await api('POST', '/v1/webhooks', { url: `${r.url}/stock`, events: ['stock.low'], stockLowThreshold: 3 })).data;
      const sell = async (quantity: number) => {
        const placed = await app.placeOrder({ items: [{ sku: 'LOW-1', quantity }] });
        await runUntilIdle(app);
        return placed.id;
      };
      const first = await sell(2); // 5 → 3: crosses
      await sell(1); // 3 → 2: already low
      await adjustStock(app.units, 'LOW-1', { set: 10 }); // up: nothing
      await adjustStock(app.units, 'LOW-1', { delta: -8, reason: 'damaged' }); // 10 → 2: crosses
      await waitFor('two stock.low events', () => r.received.length === 2);
      await new Promise((res) => setTimeout(res, 150));
      const events = r.received.map((x) => verify(ep.secret, x));
      expect(events.map((e) => e.type)).toEqual(['stock.low', 'stock.low']);
      expect(events[0]!.data).toEqual({ version: 1, sku: 'LOW-1', name: 'Product LOW-1', onHand: 3, reserved: 0, available: 3, threshold: 3, orderId: first });
      expect(events[1]!.data).toMatchObject({ sku: 'LOW-1', onHand: 2, threshold: 3 });
      expect(events[1]!.data.orderId).toBeUndefined();
    });

    it('when an endpoint keeps failing past the disable bound, then it is disabled', async () => {
      const r = await receiver((_n, _req, reply) => reply.code(500).send());
      const ep = await register(`${r.url}/failing`);
      // Its failure streak started long ago (as if it had failed for days).
      await app.db.updateTable('webhook_endpoints').set({ failing_since: Date.now() - 6 * 24 * 3600_000 }).where('id', '=', ep.id).execute();
      await confirmedOrder();
      await waitFor('disabled', async () => (await api('GET', `/v1/webhooks/${ep.id}`)).data.enabled === false);
      expect((await api('GET', `/v1/webhooks/${ep.id}`)).data.disabledReason).toMatch(/failed without a success since/);
      expect(r.received).toHaveLength(1);
    });
  });
}
