import { afterEach, describe, expect, it } from 'vitest';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { logOrderOutcomes } from '../../src/worker/order-log.js';
import { OutboxWorker } from '../../src/worker/outbox-worker.js';
import { createRunner } from '../../src/worker/start-workers.js';
import { BACKENDS } from '../helpers/backends.js';
import { makeAllDue } from '../helpers/pipeline.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { scriptedGateway } from '../helpers/payment-gateway.js';

let app: TestApp | undefined;
afterEach(async () => app?.dispose());

interface Line {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

function recorder(): { lines: Line[]; logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void } } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: object, msg = '') => lines.push({ level, msg, fields: fields as Record<string, unknown> });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

const failing: PaymentGateway = scriptedGateway(async () => {
  throw new Error('provider unavailable');
});

async function untilLine(lines: Line[], msg: string): Promise<Line> {
  for (let i = 0; i < 250; i++) {
    const line = lines.find((l) => l.msg.startsWith(msg));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no "${msg}" line; have ${JSON.stringify(lines.map((l) => l.msg))}`);
}

for (const backend of BACKENDS) describe(`pipeline log lines [${backend}]`, () => {
  it('when a step fails, is retried, then dead-lettered, then its warn lines carry order, topic, message and attempt, and the compensated order gets one warn line with its reference and reason', async () => {
    app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 2 }, {}, backend);
    await addProduct(app, 'A', 5, 1234);
    const { lines, logger } = recorder();
    const stop = logOrderOutcomes(app.units, logger);
    const worker = new OutboxWorker(app.db, app.signal, createRunner(app, { logger, gateway: failing }), logger, { batchSize: 16, leaseMs: 30_000, pollMs: 10 });
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    for (let i = 0; i < 4; i++) {
      await makeAllDue(app);
      await worker.runOnce();
    }
    const retry = lines.find((l) => l.msg === 'step failed; will retry')!;
    expect(retry).toMatchObject({ level: 'warn', fields: { orderId: order.id, topic: 'pay', messageId: expect.any(Number), attempt: 1, err: 'provider unavailable' } });
    const dead = lines.find((l) => l.msg.startsWith('message dead-lettered'))!;
    expect(dead).toMatchObject({ level: 'warn', fields: { orderId: order.id, topic: 'pay', messageId: retry.fields.messageId, attempt: 2, reason: 'provider unavailable' } });
    const final = await untilLine(lines, 'order cancelled');
    expect(final).toMatchObject({
      level: 'warn',
      fields: { orderId: order.id, reference: order.reference, status: 'cancelled', reason: 'failed', totalCents: 2468, total: '24.68', topic: 'pay', messageId: retry.fields.messageId, attempt: 2 },
    });
    expect(final.fields.sincePlacedMs).toEqual(expect.any(Number));
    expect(lines.filter((l) => l.msg.startsWith('order '))).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    stop();
  });

  it('when an order is confirmed, then one info line says so with its reference, total and time since placement', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5, 1000);
    const { lines, logger } = recorder();
    logOrderOutcomes(app.units, logger);
    const worker = new OutboxWorker(app.db, app.signal, createRunner(app, { logger }), logger, { batchSize: 16, leaseMs: 30_000, pollMs: 10 });
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 3 }] });
    while ((await worker.runOnce()) > 0);
    const final = await untilLine(lines, 'order confirmed');
    expect(final).toMatchObject({ level: 'info', fields: { orderId: order.id, reference: order.reference, status: 'confirmed', reason: null, total: '30.00', topic: 'confirm', attempt: 1 } });
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  });
});
