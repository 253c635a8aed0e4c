import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.js';
import { adjustStock } from '../../src/core/catalog/products.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { startDeliveries, type RunningDeliveries } from '../../src/worker/delivery-workers.js';
import { silentLogger } from '../../src/worker/logger.js';

// A poll far longer than the test waits: a delivery sent in time was woken by the commit.
const POLL_MS = 60_000;

for (const backend of BACKENDS) {
  describe(`delivery wake-up [${backend}]`, () => {
    let app: TestApp | undefined;
    let deliveries: RunningDeliveries | undefined;
    let receiver: WebhookReceiver | undefined;
    afterEach(async () => {
      await deliveries?.stop();
      await receiver?.close();
      await app?.dispose();
    });

    it('when a unit of work commits a webhook delivery, then the delivery pump sends it at once rather than at its next poll', async () => {
      const a = (app = await openTestApp({ BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1' }, {}, backend));
      await addProduct(a, 'WAKE-1', 10, 100);
      const r = (receiver = await new WebhookReceiver().start());
      await createEndpoint(a.units, { url: `${r.url}/stock`, events: ['stock.low'], stockLowThreshold: 3 }, { allowPrivate: true });
      deliveries = startDeliveries(a, { logger: silentLogger, pollMs: POLL_MS });
      // Let the pump's first claim (at start, finding nothing) pass, so only a wake-up can send the delivery.
      await new Promise((res) => setTimeout(res, 300));
      const started = Date.now();
      await adjustStock(a.units, 'WAKE-1', { delta: -8, reason: 'damaged' }); // 10 → 2: crosses the threshold
      await waitFor('the stock.low delivery', () => r.received.length === 1, 10_000);
      expect(Date.now() - started).toBeLessThan(POLL_MS / 6);
    });
  });
}
