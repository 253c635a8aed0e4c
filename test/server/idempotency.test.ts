import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { countRows } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer();
  await addProduct(t.app, 'A-1', 1000, 300);
  await addProduct(t.app, 'B-2', 1000, 700);
});
afterAll(async () => t?.dispose());

function post(key: string, items: { sku: string; quantity: number }[]) {
  return t.admin({ method: 'POST', url: '/v1/orders', payload: { items }, headers: { 'idempotency-key': key } });
}

describe('Idempotency-Key on POST /v1/orders', () => {
  it('when the same key and body are sent 5 times, then one order exists, every body is identical and replays are marked', async () => {
    const before = await countRows(t.app, 'orders');
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await post('retry-1', [{ sku: 'A-1', quantity: 2 }]));

    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(responses.map((r) => r.headers['idempotent-replayed'])).toEqual([undefined, 'true', 'true', 'true', 'true']);
    expect(await countRows(t.app, 'orders')).toBe(before + 1);
  });

  it('when the replayed order has moved on since, then the stored response is answered, not the current state', async () => {
    const first = await post('retry-2', [{ sku: 'B-2', quantity: 1 }]);
    await t.admin({ method: 'POST', url: `/v1/orders/${first.data.id}/cancel` });
    const replay = await post('retry-2', [{ sku: 'B-2', quantity: 1 }]);
    expect(replay.statusCode).toBe(201);
    expect(replay.body).toBe(first.body);
  });

  it('when the same key comes with a different body, then 422 IDEMPOTENCY_KEY_REUSED and no new order', async () => {
    await post('retry-3', [{ sku: 'A-1', quantity: 1 }]);
    const before = await countRows(t.app, 'orders');
    for (const items of [[{ sku: 'A-1', quantity: 2 }], [{ sku: 'B-2', quantity: 1 }], [{ sku: 'A-1', quantity: 1 }, { sku: 'B-2', quantity: 1 }]]) {
      const res = await post('retry-3', items);
      expect(res.statusCode).toBe(422);
      expect(res.data.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect(await countRows(t.app, 'orders')).toBe(before);
  });

  it('when a different key carries the same body, then it is a different order', async () => {
    const a = await post('retry-4a', [{ sku: 'A-1', quantity: 1 }]);
    const b = await post('retry-4b', [{ sku: 'A-1', quantity: 1 }]);
    expect(a.data.id).not.toBe(b.data.id);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('when 20 requests with one key and body arrive concurrently, then exactly one order exists and all answer it', async () => {
    const before = await countRows(t.app, 'orders');
    const responses = await Promise.all(Array.from({ length: 20 }, () => post('race-1', [{ sku: 'B-2', quantity: 3 }])));

    for (const res of responses) expect([201, 409]).toContain(res.statusCode);
    const created = responses.filter((r) => r.statusCode === 201);
    expect(created.length).toBeGreaterThan(0);
    expect(new Set(created.map((r) => r.data.id)).size).toBe(1);
    expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await countRows(t.app, 'orders')).toBe(before + 1);
  });

  it('when requests without a key repeat the same body, then each is a new order', async () => {
    const before = await countRows(t.app, 'orders');
    for (let i = 0; i < 3; i++) {
      const res = await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'A-1', quantity: 1 }] } });
      expect(res.statusCode).toBe(201);
    }
    expect(await countRows(t.app, 'orders')).toBe(before + 3);
  });
});
