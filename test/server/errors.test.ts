import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/build-server.js';
import { openTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_KEY } from '../helpers/server.js';

const logLines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let app: TestApp;
let server: FastifyInstance;

beforeAll(async () => {
  app = await openTestApp();
  server = await buildServer(app, { adminKey: ADMIN_KEY, logger: { level: 'error', stream: logStream } });
  // Throwaway routes that fail the way a bug would.
  server.get('/test/throw', async () => {
    throw new Error('secret detail: password=hunter2');
  });
  server.get('/test/throw-status', async () => {
    throw Object.assign(new Error('secret detail with a status'), { statusCode: 400 });
  });
  server.get('/test/reject-non-error', async () => {
    throw 'a string, not an Error';
  });
  await server.ready();
});
afterAll(async () => {
  await server?.close();
  await app?.dispose();
});

describe('error format', () => {
  it('when the route is unknown, then 404 NOT_FOUND in the error format', async () => {
    for (const [method, url] of [['GET', '/nope'], ['GET', '/v2/orders'], ['DELETE', '/v1/nothing']] as const) {
      const res = await server.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    }
  });

  it('when a handler throws an unexpected error, then 500 INTERNAL with a generic message, and the cause is only logged', async () => {
    for (const url of ['/test/throw', '/test/throw-status', '/test/reject-non-error']) {
      logLines.length = 0;
      const res = await server.inject({ url });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(res.body).not.toMatch(/secret|stack|hunter2|at /);
      expect(logLines.join('')).toMatch(/secret detail|a string, not an Error/);
    }
  });

  it('when the admin key is wrong, then the 401 body has the error format', async () => {
    const res = await server.inject({ url: '/v1/products/A-1/movements', headers: { authorization: 'Bearer nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
  });
});
