import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { BACKENDS } from '../helpers/backends.js';
import { openTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN, ADMIN_KEY } from '../helpers/server.js';
import { buildServer } from '../../src/server/build-server.js';

for (const backend of BACKENDS) {
  describe(`webhook endpoints API [${backend}]`, () => {
    let app: TestApp;
    let server: FastifyInstance;
    beforeAll(async () => {
      // Private addresses are refused here, as in production.
      app = await openTestApp({}, {}, backend);
      server = await buildServer(app, { adminKey: ADMIN_KEY });
    });
    afterAll(async () => {
      await server?.close();
      await app?.dispose();
    });

    const post = async (payload: unknown) => {
      const res = await server.inject({ method: 'POST', url: '/v1/webhooks', headers: ADMIN, payload: payload as object });
      return { status: res.statusCode, data: res.json() };
    };
    const stored = async () => (await app.db.selectFrom('webhook_endpoints').select('id').execute()).length;

    it.each([
      ['http://127.0.0.1:8080/hook', '127.0.0.1'],
      ['http://10.0.0.1/hook', '10.0.0.1'],
      ['http://169.254.169.254/latest/meta-data', '169.254.169.254'],
      ['http://[::1]:9000/hook', '::1'],
      ['https://localhost/hook', '127.0.0.1'],
      ['http://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1'],
    ])('when the URL %s reaches a private address, then 400 WEBHOOK_URL_FORBIDDEN and nothing is stored', async (url, address) => {
      const res = await post({ url, events: ['order.confirmed'] });
      expect(res.status).toBe(400);
      expect(res.data.error.code).toBe('WEBHOOK_URL_FORBIDDEN');
      expect(res.data.error.message).toContain(address);
      // The setting is the server's: a client cannot pass it.
      expect(res.data.error.message).toMatch(/BUILDFLOW_WEBHOOK_ALLOW_PRIVATE=1 in the environment of buildflow serve and buildflow worker, not of this client\)$/);
      expect(await stored()).toBe(0);
    });

    it.each([
      [{ url: 'not a url', events: ['order.confirmed'] }, 'WEBHOOK_URL_INVALID'],
      [{ url: 'ftp://example.com/hook', events: ['order.confirmed'] }, 'WEBHOOK_URL_INVALID'],
      [{ url: 'https://user:pw@example.com/hook', events: ['order.confirmed'] }, 'WEBHOOK_URL_INVALID'],
      [{ url: 'https://example.com/hook', events: ['order.exploded'] }, 'WEBHOOK_EVENT_UNKNOWN'],
      [{ url: 'https://example.com/hook', events: [] }, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/hook', events: ['order.confirmed'], description: 'x'.repeat(501) }, 'VALIDATION_FAILED'],
      [{ url: 'https://example.com/hook', events: ['order.confirmed'], secret: 'mine' }, 'VALIDATION_FAILED'],
    ])('when the body is %j, then 400 %s and nothing is stored', async (payload, code) => {
      const res = await post(payload);
      expect(res.status).toBe(400);
      expect(res.data.error.code).toBe(code);
      expect(await stored()).toBe(0);
    });

    it('when the caller is not the admin, then 401 and nothing is stored', async () => {
      const res = await server.inject({ method: 'POST', url: '/v1/webhooks', payload: { url: 'https://example.com', events: ['stock.low'] } });
      expect(res.statusCode).toBe(401);
      expect(await stored()).toBe(0);
    });

    it('when an unknown endpoint or delivery is asked for, then 404 with its code', async () => {
      const missing = await server.inject({ url: '/v1/webhooks/ep_missing', headers: ADMIN });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('WEBHOOK_NOT_FOUND');
      const rotate = await server.inject({ method: 'POST', url: '/v1/webhooks/ep_missing/rotate', headers: ADMIN });
      expect(rotate.json().error.code).toBe('WEBHOOK_NOT_FOUND');
      const del = await server.inject({ method: 'DELETE', url: '/v1/webhooks/ep_missing', headers: ADMIN });
      expect(del.statusCode).toBe(404);
    });

    it('when the OpenAPI document is read, then it describes the webhook routes', async () => {
      const doc = (await server.inject({ url: '/openapi.json' })).json();
      for (const path of ['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/rotate', '/v1/webhooks/{id}/deliveries', '/v1/webhooks/{id}/replay']) {
        expect(doc.paths[path], path).toBeDefined();
      }
    });
  });
}
