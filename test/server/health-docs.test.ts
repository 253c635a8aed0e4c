import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await openTestServer();
});
afterAll(async () => t?.dispose());

describe('health', () => {
  it('when the process is up, then /healthz answers ok', async () => {
    const res = await t.request({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.data).toEqual({ status: 'ok' });
  });

  it('when the database is migrated, then /readyz answers ok', async () => {
    const res = await t.request({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.data).toEqual({ status: 'ok' });
  });

  it('when migrations are pending, then /readyz answers 503 UNAVAILABLE', async () => {
    const unmigrated = await openTestServer({}, {}, { migrate: false });
    try {
      const res = await unmigrated.request({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.data).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('migration') } });
      expect((await unmigrated.request({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await unmigrated.dispose();
    }
  });

  it('when the database does not answer, then /readyz answers 503 UNAVAILABLE', async () => {
    const broken = await openTestServer();
    try {
      await broken.app.db.destroy();
      const res = await broken.request({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.data.error.code).toBe('UNAVAILABLE');
    } finally {
      await broken.dispose();
    }
  });
});

describe('OpenAPI', () => {
  it('when /openapi.json is fetched, then it is an OpenAPI 3 document with every route and the bearer scheme on admin routes', async () => {
    const res = await t.request({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.data;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/products',
        '/v1/products/{sku}',
        '/v1/products/{sku}/stock',
        '/v1/products/{sku}/movements',
        '/v1/orders',
        '/v1/orders/{id}',
        '/v1/orders/{id}/cancel',
        '/v1/orders/{id}/history',
        '/v1/notifications',
        '/v1/customers',
        '/v1/auth/token',
        '/v1/me',
        '/v1/shipments/{trackingCode}/status',
        '/v1/tracking/{code}',
        '/healthz',
        '/readyz',
      ]),
    );
    expect(doc.paths['/openapi.json']).toBeUndefined();
    expect(doc.paths['/v1/products/{sku}'].put.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/products/{sku}/stock'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/products/{sku}/movements'].get.security).toEqual([{ bearerAuth: [] }]);
    // Order routes take a customer token or the admin key; tracking is public.
    expect(doc.paths['/v1/orders'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/tracking/{code}'].get.security).toBeUndefined();

    const placeOrder = doc.paths['/v1/orders'].post;
    expect(placeOrder.tags).toEqual(['orders']);
    expect(placeOrder.summary).toBeTruthy();
    expect(placeOrder.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]));
    expect(Object.keys(placeOrder.responses)).toEqual(expect.arrayContaining(['201', '400', '422']));
    const body = placeOrder.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.items.items.additionalProperties).toBe(false);
    for (const [path, methods] of Object.entries<Record<string, { tags?: string[]; summary?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.tags?.length, `${method} ${path} has tags`).toBeGreaterThan(0);
        expect(op.summary, `${method} ${path} has a summary`).toBeTruthy();
      }
    }
  });

  it('when /docs is fetched, then Swagger UI answers', async () => {
    const res = await t.request({ url: '/docs' });
    expect([200, 301, 302]).toContain(res.statusCode);
    if (res.statusCode === 200) expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});
