import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { waitFor } from '../helpers/webhook-receiver.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { createCustomer } from '../../src/core/customers/customers.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { startDeliveries } from '../../src/worker/delivery-workers.js';
import { silentLogger } from '../../src/worker/logger.js';

for (const backend of BACKENDS) {
  describe(`customer email over SMTP [${backend}]`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function setup(port: number) {
      const app: TestApp = await openTestApp(
        { BUILDFLOW_SMTP_URL: `smtp://127.0.0.1:${port}`, BUILDFLOW_MAIL_FROM: 'Tool Shop <shop@example.com>', BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms' },
        {},
        backend,
      );
      cleanups.push(() => app.dispose());
      await addProduct(app, 'MAIL-1', 100, 1999);
      await addProduct(app, 'GONE-1', 0, 500);
      const customer = await createCustomer(app.units, { email: `ada-${Date.now()}@example.com`, name: 'Ada', password: 'correct horse battery' }, 1024);
      return { app, customer };
    }
    function deliver(app: TestApp) {
      const d = startDeliveries(app, { logger: silentLogger, pollMs: 20 });
      cleanups.push(() => d.stop());
    }

    it('when an order is confirmed, shipped and delivered and another cancelled, then the customer gets one email per notification with the right content', async () => {
      const sink = await new SmtpSink().start();
      cleanups.push(() => sink.close());
      const { app, customer } = await setup(sink.port);
      deliver(app);
      const order = await app.placeOrder({ items: [{ sku: 'MAIL-1', quantity: 2 }], customerId: customer.id });
      const cancelled = await app.placeOrder({ items: [{ sku: 'GONE-1', quantity: 1 }], customerId: customer.id });
      const unowned = await app.placeOrder({ items: [{ sku: 'MAIL-1', quantity: 1 }] });
      await runUntilIdle(app);
      const { tracking_code } = await app.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', order.id).executeTakeFirstOrThrow();
      for (const status of ['shipped', 'delivered'] as const) {
        await requestShipmentUpdate(app.units, tracking_code, status);
        await runUntilIdle(app);
      }
      await waitFor('four emails', () => sink.mails.length === 4);
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.mails).toHaveLength(4); // none for the admin's unowned order, none twice

      const ref = order.order.reference;
      const bySubject = new Map(sink.mails.map((m) => [m.header('subject'), m]));
      expect([...bySubject.keys()].sort()).toEqual(
        [`Order ${ref} confirmed`, `Order ${ref} shipped`, `Order ${ref} delivered`, `Order ${cancelled.order.reference} cancelled`].sort(),
      );
      for (const m of sink.mails) {
        expect(m.to).toEqual([customer.email]);
        expect(m.from).toBe('shop@example.com');
        expect(m.header('content-type')).toMatch(/multipart\/alternative/);
        expect(m.raw).toMatch(/text\/plain/);
        expect(m.raw).toMatch(/text\/html/);
      }
      const confirmed = bySubject.get(`Order ${ref} confirmed`)!.text;
      expect(confirmed).toContain('Hello Ada,');
      expect(confirmed).toContain('2 × Product MAIL-1 (MAIL-1)  39.98');
      expect(confirmed).toContain('Total: 39.98');
      expect(bySubject.get(`Order ${cancelled.order.reference} cancelled`)!.text).toContain('was cancelled: an item in it is out of stock.');
      expect(bySubject.get(`Order ${ref} shipped`)!.text).toContain(`Tracking code: ${tracking_code}`);
      expect(bySubject.get(`Order ${ref} delivered`)!.text).toContain('was delivered');
      const rows = await app.db.selectFrom('email_messages').select(['order_id', 'status']).execute();
      expect(rows.every((r) => r.status === 'sent')).toBe(true);
      expect(rows.some((r) => r.order_id === unowned.id)).toBe(false);
    });

    it('when the SMTP server is down for a while, then the mail waits, arrives once it is back, and none twice', async () => {
      // Take a free port, then leave it closed: the SMTP server is "down".
      const probe = await new SmtpSink().start();
      const port = probe.port;
      await probe.close();
      const { app, customer } = await setup(port);
      deliver(app);
      const orders = [];
      for (let i = 0; i < 3; i++) orders.push(await app.placeOrder({ items: [{ sku: 'MAIL-1', quantity: 1 }], customerId: customer.id }));
      await runUntilIdle(app);
      await waitFor('failed attempts', async () => {
        const rows = await app.db.selectFrom('email_messages').select(['attempts', 'status', 'last_error']).execute();
        return rows.length === 3 && rows.every((r) => r.attempts >= 3 && r.status === 'pending' && r.last_error !== null);
      });

      const sink = await new SmtpSink().start(port);
      cleanups.push(() => sink.close());
      await waitFor('three emails', () => sink.mails.length === 3, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.mails).toHaveLength(3);
      expect(new Set(sink.mails.map((m) => m.header('message-id'))).size).toBe(3);
      expect(new Set(sink.mails.map((m) => m.header('subject')))).toEqual(new Set(orders.map((o) => `Order ${o.order.reference} confirmed`)));
      const rows = await app.db.selectFrom('email_messages').select('status').execute();
      expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    });
  });
}
