import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestServer, type TestServer } from '../helpers/server.js';
import { signUp } from '../helpers/customers.js';

let t: TestServer;
beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT: 3, BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS: 6, BUILDFLOW_CUSTOMER_RATE_LIMIT: 5 });
});
afterAll(async () => t?.dispose());

const signIn = (email: string, password: string, ip: string) =>
  t.request({ method: 'POST', url: '/v1/auth/token', payload: { email, password }, remoteAddress: ip });

describe('rate limits', () => {
  it('when one account gets too many sign-in attempts, then 429 with Retry-After, even with the right password and from other addresses', async () => {
    const c = await signUp(t, 'target');
    for (let i = 0; i < 2; i++) expect((await signIn(c.email, 'wrong password', `10.0.0.${i + 1}`)).statusCode).toBe(401);
    const blocked = await signIn(c.email, 'wrong password', '10.0.0.9');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.data.error.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signIn(c.email.toUpperCase(), c.password, '10.0.0.10')).statusCode).toBe(429);
  });

  it('when one address tries many accounts, then it is limited while other addresses still sign in', async () => {
    const c = await signUp(t, 'bystander');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await signIn(`guess-${i}@example.com`, 'password?', '192.0.2.7')).statusCode);
    expect(statuses.slice(0, 6).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(6)).toEqual([429, 429]);
    expect((await signIn(c.email, c.password, '192.0.2.8')).statusCode).toBe(200);
  });

  it('when one customer floods the API, then they get 429 and another customer is still served', async () => {
    const noisy = await signUp(t, 'noisy');
    const quiet = await signUp(t, 'quiet');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.as(noisy.token, { url: '/v1/me' })).statusCode);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect((await t.as(quiet.token, { url: '/v1/orders' })).statusCode).toBe(200);
  });
});
