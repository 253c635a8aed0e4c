import { statSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, json, runCli, startServer, tempDir, type RunResult } from './harness.js';

// A customer's whole journey with the built binary against a real `buildflow serve`.
const tmp = tempDir();
const config = tempDir('buildflow-cli-login-');
const CARRIER_KEY = 'cli-test-carrier-key-0123456789';
let server: Awaited<ReturnType<typeof startServer>>;

/** As a customer: no admin key, the login kept in its own config directory. */
const asCustomer = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> =>
  runCli([...args, '--url', server.url], { ...options, env: { BUILDFLOW_ADMIN_KEY: '', BUILDFLOW_CONFIG_DIR: config.dir, ...options.env } });
const asAdmin = (...args: string[]) => runCli([...args, '--url', server.url]);

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir, [], { BUILDFLOW_CARRIER_KEY: CARRIER_KEY });
});
afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    tmp.remove();
    config.remove();
  }
});

describe('customers end to end', () => {
  it('when a customer signs up, logs in, orders and the carrier ships, then tracking follows to delivery', async () => {
    const email = `cli-${Date.now()}@example.com`;
    const created = await asCustomer(['customer', 'create', '--email', email, '--name', 'Cli Customer', '--json'], { input: 'a fine passphrase\n' });
    expect(created.code, created.stderr).toBe(0);
    const customer = json(created);
    expect(customer).toMatchObject({ email, name: 'Cli Customer', disabled: false });

    const badLogin = await asCustomer(['login', '--email', email], { input: 'wrong passphrase\n' });
    expect(badLogin.code).toBe(7);
    expect(badLogin.stderr.trim()).toBe('error: wrong email or password');

    const login = await asCustomer(['login', '--email', email], { input: 'a fine passphrase\n' });
    expect(login.code, login.stderr).toBe(0);
    const file = join(config.dir, 'credentials.json');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.token).toMatch(/^bft_/);
    expect(login.stdout + login.stderr).not.toContain(saved.token);

    // Without a login nothing is allowed; with it the order is the customer's.
    const anonymous = await asCustomer(['order', 'list'], { env: { BUILDFLOW_CONFIG_DIR: tmp.dir } });
    expect(anonymous.code).toBe(7);
    const placed = await asCustomer(['order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--json']);
    expect(placed.code, placed.stderr).toBe(0);
    const order = json(placed);
    expect(order).toMatchObject({ status: 'confirmed', trackingCode: expect.stringMatching(/^TRK/) });
    const mine = json(await asCustomer(['order', 'list', '--json']));
    expect(mine.items.map((o: { id: string }) => o.id)).toEqual([order.id]);

    const listed = json(await asAdmin('customer', 'list', '--limit', '100', '--json'));
    expect(listed.items.map((c: { id: string }) => c.id)).toContain(customer.id);

    // The admin orders on the customer's behalf; the customer sees it.
    const onBehalf = await asAdmin('order', 'create', '--item', 'HT-HAM-16OZ:1', '--customer', customer.id, '--json');
    expect(onBehalf.code, onBehalf.stderr).toBe(0);
    expect((await asCustomer(['order', 'get', json(onBehalf).id, '--json'])).code).toBe(0);

    const code = order.trackingCode as string;
    const tracked = await asCustomer(['track', code, '--json'], { env: { BUILDFLOW_CONFIG_DIR: tmp.dir } });
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(json(tracked)).toEqual({ trackingCode: code, status: 'pending', history: [{ status: 'pending', at: expect.any(String) }] });

    expect((await asCustomer(['shipment', 'update', code, '--status', 'shipped'])).code).toBe(7);
    const shipped = await asCustomer(['shipment', 'update', code, '--status', 'shipped', '--json'], { env: { BUILDFLOW_TOKEN: CARRIER_KEY } });
    expect(shipped.code, shipped.stderr).toBe(0);
    expect(json(shipped)).toEqual({ trackingCode: code, status: 'pending', requestedStatus: 'shipped' });
    await until(async () => (await trackingStatus(code)) === 'shipped');

    const skipped = await asAdmin('shipment', 'update', code, '--status', 'shipped');
    expect(skipped.code).toBe(4);
    expect(skipped.stderr).toMatch(/^error: shipment TRK\w+ cannot move to shipped/);
    expect((await asAdmin('shipment', 'update', code, '--status', 'delivered')).code).toBe(0);
    await until(async () => (await trackingStatus(code)) === 'delivered');

    const table = await asCustomer(['track', code]);
    expect(table.stdout).toMatch(/pending[\s\S]*shipped[\s\S]*delivered/);
    expect(json(await asCustomer(['order', 'get', order.id, '--json'])).status).toBe('delivered');
    expect((await asCustomer(['track', 'TRK000000000000'])).code).toBe(3);

    const out = await asCustomer(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect((await asCustomer(['order', 'list', '--token', saved.token])).code).toBe(7);
  });

  it('when a script signs in with --print-token, then BUILDFLOW_TOKEN acts as that customer', async () => {
    const email = `script-${Date.now()}@example.com`;
    expect((await asCustomer(['customer', 'create', '--email', email, '--name', 'Script'], { env: { BUILDFLOW_PASSWORD: 'script passphrase' } })).code).toBe(0);
    const printed = await asCustomer(['login', '--email', email, '--print-token'], { env: { BUILDFLOW_PASSWORD: 'script passphrase', BUILDFLOW_CONFIG_DIR: tmp.dir } });
    expect(printed.code).toBe(0);
    const token = printed.stdout.trim();
    expect(token).toMatch(/^bft_/);
    const r = await asCustomer(['order', 'list', '--json'], { env: { BUILDFLOW_TOKEN: token, BUILDFLOW_CONFIG_DIR: tmp.dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).items).toEqual([]);

    // The admin disables the account: the token stops working at once.
    const me = json(await asAdmin('customer', 'list', '--limit', '100', '--json')).items.find((c: { email: string }) => c.email === email);
    const disabled = await asAdmin('customer', 'disable', me.id, '--json');
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(json(disabled).disabled).toBe(true);
    const refused = await asCustomer(['order', 'list'], { env: { BUILDFLOW_TOKEN: token, BUILDFLOW_CONFIG_DIR: tmp.dir } });
    expect(refused.code).toBe(7);
  });
});

/** Polled over HTTP directly: spawning the CLI in a loop would only slow the test down. */
async function trackingStatus(code: string): Promise<string> {
  return ((await (await fetch(`${server.url}/v1/tracking/${code}`)).json()) as { status: string }).status;
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
