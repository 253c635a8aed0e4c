import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { addProduct } from '../helpers/test-app.js';
import { countRows } from '../helpers/pipeline.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

const MAX_ITEMS = 3;
const BODY_LIMIT = 4096;
let t: TestServer;

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_MAX_ITEMS: MAX_ITEMS }, { bodyLimit: BODY_LIMIT });
  for (const sku of ['A-1', 'B-2', 'C-3', 'D-4']) await addProduct(t.app, sku, 50);
});
afterAll(async () => t?.dispose());

const item = (quantity: unknown, sku: unknown = 'A-1') => ({ sku, quantity });
const json = (payload: unknown): InjectOptions => ({ method: 'POST', url: '/v1/orders', payload: payload as object });
const raw = (payload: string, contentType = 'application/json'): InjectOptions => ({
  method: 'POST',
  url: '/v1/orders',
  payload,
  headers: { 'content-type': contentType },
});

/** Sends a request that must be refused, and checks that nothing reached the database. */
async function expectRefused(options: InjectOptions, status: number, code: string): Promise<string> {
  const before = { orders: await countRows(t.app, 'orders'), outbox: await countRows(t.app, 'outbox'), keys: await countRows(t.app, 'idempotency_keys') };
  const res = await t.admin(options);
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.data).toEqual({ error: { code, message: expect.any(String) } });
  expect({ orders: await countRows(t.app, 'orders'), outbox: await countRows(t.app, 'outbox'), keys: await countRows(t.app, 'idempotency_keys') }).toEqual(before);
  return res.data.error.message;
}

describe('POST /v1/orders with bad input: refused with nothing written', () => {
  it('when the JSON is malformed, then 400 INVALID_JSON', async () => {
    await expectRefused(raw('{"items": [ {"sku": "A-1", "quantity": 1 }'), 400, 'INVALID_JSON');
    await expectRefused(raw(''), 400, 'INVALID_JSON');
    await expectRefused(raw('{"__proto__": {"admin": true}, "items": []}'), 400, 'INVALID_JSON');
  });

  it('when a sku is not in the catalog, then 422 UNKNOWN_SKU naming it', async () => {
    const message = await expectRefused(json({ items: [item(1), item(1, 'NOPE-9')] }), 422, 'UNKNOWN_SKU');
    expect(message).toContain('NOPE-9');
  });

  it.each([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['the string "2"', '2'],
    ['10001', 10_001],
    ['1e12', 1e12],
    ['null', null],
    ['true', true],
  ])('when a quantity is %s, then 400 VALIDATION_FAILED naming the field', async (_name, quantity) => {
    const message = await expectRefused(json({ items: [item(1, 'B-2'), item(quantity)] }), 400, 'VALIDATION_FAILED');
    expect(message).toContain('items[1].quantity');
  });

  it.each(['price', 'totalCents', 'status', 'customerId', 'owner'])('when the body sets "%s", then 400 VALIDATION_FAILED naming it', async (field) => {
    const message = await expectRefused(json({ items: [item(1)], [field]: field === 'status' ? 'confirmed' : 1 }), 400, 'VALIDATION_FAILED');
    expect(message).toContain(field);
  });

  it.each(['unitPriceCents', 'price', 'name', 'lineTotalCents'])('when an item sets "%s", then 400 VALIDATION_FAILED naming it', async (field) => {
    const message = await expectRefused(json({ items: [{ sku: 'A-1', quantity: 1, [field]: 1 }] }), 400, 'VALIDATION_FAILED');
    expect(message).toContain(`items[0]`);
    expect(message).toContain(field);
  });

  it('when a sku is malformed or missing, then 400 VALIDATION_FAILED', async () => {
    await expectRefused(json({ items: [item(1, 'has space')] }), 400, 'VALIDATION_FAILED');
    await expectRefused(json({ items: [item(1, 7)] }), 400, 'VALIDATION_FAILED');
    expect(await expectRefused(json({ items: [{ quantity: 1 }] }), 400, 'VALIDATION_FAILED')).toContain('sku');
  });

  it('when items are empty, missing or not a list, then 400 VALIDATION_FAILED', async () => {
    await expectRefused(json({ items: [] }), 400, 'VALIDATION_FAILED');
    await expectRefused(json({}), 400, 'VALIDATION_FAILED');
    await expectRefused(json({ items: item(1) }), 400, 'VALIDATION_FAILED');
    await expectRefused(raw('[{"sku":"A-1","quantity":1}]'), 400, 'VALIDATION_FAILED');
    await expectRefused(raw('null'), 400, 'VALIDATION_FAILED');
    await expectRefused({ method: 'POST', url: '/v1/orders' }, 400, 'VALIDATION_FAILED');
  });

  it('when there are more items than BUILDFLOW_MAX_ITEMS, then 400 VALIDATION_FAILED; exactly the maximum is accepted', async () => {
    const four = ['A-1', 'B-2', 'C-3', 'D-4'].map((sku) => item(1, sku));
    const message = await expectRefused(json({ items: four }), 400, 'VALIDATION_FAILED');
    expect(message).toContain('items');
    const ok = await t.admin(json({ items: four.slice(0, MAX_ITEMS) }));
    expect(ok.statusCode).toBe(201);
  });

  it('when the body is larger than the limit, then 413 PAYLOAD_TOO_LARGE', async () => {
    await expectRefused(json({ items: [item(1)], padding: 'x'.repeat(BODY_LIMIT) }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('when the content type is not JSON, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const body = JSON.stringify({ items: [item(1)] });
    await expectRefused(raw(body, 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefused(raw(body, 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefused(raw('<order/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['non-ASCII', 'clé'],
  ])('when the Idempotency-Key is %s, then 400 VALIDATION_FAILED', async (_name, key) => {
    const message = await expectRefused({ ...json({ items: [item(1)] }), headers: { 'idempotency-key': key } }, 400, 'VALIDATION_FAILED');
    expect(message).toContain('idempotency-key');
  });

  it('when the Idempotency-Key has 255 printable characters, then it is accepted', async () => {
    const res = await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [item(1)] }, headers: { 'idempotency-key': `${'k'.repeat(250)} ~!#$` } });
    expect(res.statusCode).toBe(201);
  });
});
