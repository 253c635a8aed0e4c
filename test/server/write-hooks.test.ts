import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommittedWork } from '../../src/core/db/unit-of-work.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
const seen: CommittedWork[] = [];

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1' });
  // What an audit trail or a metric would add: one hook on the units of work, nothing per route.
  t.app.units.onCommit((work) => void seen.push(work));
});
afterAll(async () => t?.dispose());

/** The record changes the hook heard of while `act` ran. */
async function heard(act: () => Promise<unknown>): Promise<CommittedWork['changes'][number][]> {
  const from = seen.length;
  await act();
  return seen.slice(from).flatMap((w) => w.changes);
}

describe('after-commit hooks on writes outside the order pipeline', () => {
  it('when a customer signs up, signs in, signs out and is disabled, then a units.onCommit hook hears of each write', async () => {
    const email = `hook-${Date.now()}@example.com`;
    let id = '';
    expect(
      await heard(async () => {
        const res = await t.request({ method: 'POST', url: '/v1/customers', payload: { email, name: 'Ada', password: 'correct horse battery' } });
        expect(res.statusCode).toBe(201);
        id = res.data.id;
      }),
    ).toEqual([{ kind: 'customer', id, action: 'created' }]);

    let token = '';
    expect(
      await heard(async () => {
        const res = await t.request({ method: 'POST', url: '/v1/auth/token', payload: { email, password: 'correct horse battery' } });
        expect(res.statusCode).toBe(200);
        token = res.data.token;
      }),
    ).toEqual([{ kind: 'auth_token', id, action: 'created' }]);

    expect(await heard(async () => expect((await t.as(token, { method: 'DELETE', url: '/v1/auth/token' })).statusCode).toBe(204))).toEqual([
      { kind: 'auth_token', id, action: 'updated' },
    ]);
    expect(await heard(async () => expect((await t.admin({ method: 'POST', url: `/v1/customers/${id}/disable` })).statusCode).toBe(200))).toEqual([
      { kind: 'customer', id, action: 'updated' },
    ]);
  });

  it('when a customer write is refused (the email is taken), then the hook hears nothing: the unit rolled back', async () => {
    const email = `taken-${Date.now()}@example.com`;
    expect((await t.request({ method: 'POST', url: '/v1/customers', payload: { email, name: 'Ada', password: 'correct horse battery' } })).statusCode).toBe(201);
    const calls = seen.length;
    const again = await t.request({ method: 'POST', url: '/v1/customers', payload: { email, name: 'Bob', password: 'another horse battery' } });
    expect(again.statusCode).toBe(409);
    expect(seen.length).toBe(calls);
  });

  it('when a webhook endpoint is created, changed, rotated and removed, then a units.onCommit hook hears of each write', async () => {
    let id = '';
    expect(
      await heard(async () => {
        const res = await t.admin({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hooks', events: ['order.confirmed'] } });
        expect(res.statusCode).toBe(201);
        id = res.data.id;
      }),
    ).toEqual([{ kind: 'webhook_endpoint', id, action: 'created' }]);
    expect(await heard(async () => expect((await t.admin({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { description: 'audit me' } })).statusCode).toBe(200))).toEqual([
      { kind: 'webhook_endpoint', id, action: 'updated' },
    ]);
    expect(await heard(async () => expect((await t.admin({ method: 'POST', url: `/v1/webhooks/${id}/rotate` })).statusCode).toBe(200))).toEqual([
      { kind: 'webhook_endpoint', id, action: 'updated' },
    ]);
    expect(await heard(async () => expect((await t.admin({ method: 'DELETE', url: `/v1/webhooks/${id}` })).statusCode).toBe(204))).toEqual([
      { kind: 'webhook_endpoint', id, action: 'deleted' },
    ]);
  });
});
