import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, openTestServer, type TestServer } from '../helpers/server.js';
import { signIn, signUp } from '../helpers/customers.js';

const logLines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let t: TestServer;
beforeAll(async () => {
  t = await openTestServer({}, { logger: { level: 'trace', stream: logStream } });
});
afterAll(async () => t?.dispose());

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('sign-up and sign-in', () => {
  it('when a customer signs up, then 201 with their view, the email lower-cased and no password anywhere', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/customers', payload: { email: 'Ada@Example.COM', name: 'Ada', password: 'a long passphrase' } });
    expect(res.statusCode).toBe(201);
    expect(res.data).toEqual({ id: expect.any(String), email: 'ada@example.com', name: 'Ada', disabled: false, createdAt: expect.any(String) });
    const row = await t.app.db.selectFrom('customers').select('password_hash').where('id', '=', res.data.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(row.password_hash).not.toContain('a long passphrase');

    const again = await t.request({ method: 'POST', url: '/v1/customers', payload: { email: 'ADA@example.com', name: 'Other', password: 'another passphrase' } });
    expect(again.statusCode).toBe(409);
    expect(again.data.error.code).toBe('EMAIL_TAKEN');
  });

  it.each([
    [{ email: 'x@example.com', name: 'X' }],
    [{ email: 'not-an-email', name: 'X', password: 'long enough pw' }],
    [{ email: 'y@example.com', name: 'Y', password: 'short' }],
    [{ email: 'z@example.com', name: 'Z', password: 'long enough pw', disabled: false }],
    [{ email: 'w@example.com', name: 'W', password: 'long enough pw', id: 'mine' }],
  ])('when the sign-up body is %j, then 400 and nothing is stored', async (payload) => {
    const before = await t.app.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const res = await t.request({ method: 'POST', url: '/v1/customers', payload });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('VALIDATION_FAILED');
    const after = await t.app.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('when signing in with the right password, then a token that opens /v1/me; a wrong password or unknown email is 401 INVALID_CREDENTIALS', async () => {
    const c = await signUp(t, 'grace');
    const me = await t.as(c.token, { url: '/v1/me' });
    expect(me.statusCode).toBe(200);
    expect(me.data).toMatchObject({ id: c.id, email: c.email, disabled: false });

    for (const payload of [{ email: c.email, password: 'wrong password' }, { email: 'nobody@example.com', password: c.password }]) {
      const res = await t.request({ method: 'POST', url: '/v1/auth/token', payload });
      expect(res.statusCode).toBe(401);
      expect(res.data).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'wrong email or password' } });
    }
  });

  it('when the token response is read, then it carries the expiry and the token is stored only as a hash', async () => {
    const c = await signUp(t, 'hash');
    const res = await t.request({ method: 'POST', url: '/v1/auth/token', payload: { email: c.email.toUpperCase(), password: c.password } });
    expect(res.data).toEqual({ token: expect.stringMatching(/^bft_/), expiresAt: expect.any(String) });
    expect(Date.parse(res.data.expiresAt)).toBeGreaterThan(Date.now());
    const rows = await t.app.db.selectFrom('auth_tokens').selectAll().where('customer_id', '=', c.id).execute();
    expect(JSON.stringify(rows)).not.toContain(res.data.token);
    expect(JSON.stringify(rows)).not.toContain(res.data.token.slice(4));
  });
});

describe('tokens: every bad credential is 401', () => {
  it('when the token is missing, expired, tampered, of another algorithm, revoked or of a disabled customer, then 401', async () => {
    const c = await signUp(t, 'tokens');
    expect((await t.as(c.token, { url: '/v1/me' })).statusCode).toBe(200);

    const last = c.token.at(-1) === 'A' ? 'B' : 'A';
    const tampered = `${c.token.slice(0, -1)}${last}`;
    const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: c.id, exp: 9_999_999_999 })}.`;
    const hs256 = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: c.id })}.c2lnbmF0dXJl`;
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['tampered', { authorization: `Bearer ${tampered}` }],
      ['alg none', { authorization: `Bearer ${algNone}` }],
      ['other algorithm', { authorization: `Bearer ${hs256}` }],
      ['not bearer', { authorization: `Basic ${Buffer.from(`${c.email}:${c.password}`).toString('base64')}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
    ];
    for (const [name, headers] of cases) {
      for (const url of ['/v1/me', '/v1/orders', '/v1/notifications']) {
        const res = await t.request({ url, headers });
        expect(res.statusCode, `${name} ${url}`).toBe(401);
        expect(res.data.error.code).toBe('UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }

    // Expired: the stored expiry passes.
    const expiring = await signIn(t, c.email, c.password);
    await t.app.db.updateTable('auth_tokens').set({ expires_at: Date.now() - 1 }).where('customer_id', '=', c.id).where('revoked_at', 'is', null).execute();
    expect((await t.as(expiring, { url: '/v1/me' })).statusCode).toBe(401);
    expect((await t.as(c.token, { url: '/v1/me' })).statusCode).toBe(401);
  });

  it('when a customer signs out, then that token is refused and another of theirs still works', async () => {
    const c = await signUp(t, 'logout');
    const other = await signIn(t, c.email, c.password);
    const out = await t.as(c.token, { method: 'DELETE', url: '/v1/auth/token' });
    expect(out.statusCode).toBe(204);
    expect((await t.as(c.token, { url: '/v1/me' })).statusCode).toBe(401);
    expect((await t.as(other, { url: '/v1/me' })).statusCode).toBe(200);
  });

  it('when the admin disables a customer, then their tokens are refused and they cannot sign in', async () => {
    const c = await signUp(t, 'disabled');
    const res = await t.admin({ method: 'POST', url: `/v1/customers/${c.id}/disable` });
    expect(res.statusCode).toBe(200);
    expect(res.data.disabled).toBe(true);
    expect((await t.as(c.token, { url: '/v1/me' })).statusCode).toBe(401);
    const signin = await t.request({ method: 'POST', url: '/v1/auth/token', payload: { email: c.email, password: c.password } });
    expect(signin.statusCode).toBe(401);
    expect(signin.data.error.code).toBe('INVALID_CREDENTIALS');
    expect((await t.admin({ method: 'POST', url: '/v1/customers/nope/disable' })).statusCode).toBe(404);
  });
});

describe('customer administration', () => {
  it('when the admin lists customers, then pages of customer views come back; a customer or anonymous caller cannot', async () => {
    const c = await signUp(t, 'listed');
    const page = await t.admin({ url: '/v1/customers?limit=100' });
    expect(page.statusCode).toBe(200);
    expect(page.data.items.map((x: { id: string }) => x.id)).toContain(c.id);
    expect(JSON.stringify(page.data)).not.toMatch(/password|scrypt/);
    expect((await t.request({ url: '/v1/customers' })).statusCode).toBe(401);
    const asCustomer = await t.as(c.token, { url: '/v1/customers' });
    expect(asCustomer.statusCode).toBe(403);
    expect(asCustomer.data.error.code).toBe('FORBIDDEN');
    expect((await t.as(c.token, { url: `/v1/customers/${c.id}` })).statusCode).toBe(403);
    expect((await t.request({ url: '/v1/me', headers: ADMIN })).statusCode).toBe(403);
  });
});

describe('logs', () => {
  it('when customers sign up, sign in and call the API, then no password or token appears in the logs', async () => {
    logLines.length = 0;
    const c = await signUp(t, 'logs');
    await t.as(c.token, { url: '/v1/me' });
    await t.as(`${c.token}x`, { url: '/v1/me' });
    await t.request({ method: 'POST', url: '/v1/auth/token', payload: { email: c.email, password: 'wrong password 1' } });
    const text = logLines.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(c.password);
    expect(text).not.toContain('wrong password 1');
    expect(text).not.toContain(c.token.slice(4));
  });
});
