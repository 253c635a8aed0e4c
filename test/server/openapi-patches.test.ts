import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENTS } from '../../src/core/webhooks/events.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

describe('the OpenAPI document', () => {
  let t: TestServer;
  let doc: any;
  beforeAll(async () => {
    t = await openTestServer({}, { metricsKey: 'metrics-scraper-key-0123456789' });
    doc = (await t.request({ url: '/openapi.json' })).data;
  });
  afterAll(async () => t?.dispose());

  it('when GET /metrics is read, then it documents its text/plain exposition', () => {
    const ok = doc.paths['/metrics'].get.responses['200'];
    expect(ok.content).toEqual({ 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } });
  });

  it('when a webhook body is read, then its events array documents the enum of event types, on create and update', () => {
    for (const [path, method] of [['/v1/webhooks', 'post'], ['/v1/webhooks/{id}', 'patch']] as const) {
      const events = doc.paths[path][method].requestBody.content['application/json'].schema.properties.events;
      expect(events.items.enum, `${method} ${path}`).toEqual([...WEBHOOK_EVENTS]);
    }
  });

  it('when a webhook is created with an unknown event, then core still names it (the enum is documentation, not the validator)', async () => {
    const res = await t.admin({ method: 'POST', url: '/v1/webhooks', payload: { url: 'https://example.com/hook', events: ['order.exploded'] } });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('WEBHOOK_EVENT_UNKNOWN');
  });
});
