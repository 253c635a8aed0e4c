import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, json, runCli, startServer, tempDir, type RunResult } from './harness.js';

// What the CLI says when the server refuses what the user typed: the flag or the item, in words.
const tmp = tempDir();
const config = tempDir('buildflow-cli-inputs-');
let server: Awaited<ReturnType<typeof startServer>>;
const cli = (args: string[], env: Record<string, string> = {}, input?: string): Promise<RunResult> =>
  runCli([...args, '--url', server.url], { env: { BUILDFLOW_CONFIG_DIR: config.dir, ...env }, input });

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir);
});
afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    tmp.remove();
    config.remove();
  }
});

describe('input errors in the user terms', () => {
  it('when an --item quantity is above the limit, then the message names that --item, not a JSON path', async () => {
    const r = await cli(['order', 'create', '--item', 'PT-DRL-18V:1', '--item', 'PT-DRL-18V:20000']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('error: --item PT-DRL-18V:20000: quantity must be at most 10000');
  });

  it('when there are more --item flags than an order may have, then it says so about --item', async () => {
    const items = Array.from({ length: 101 }, (_, i) => ['--item', `SKU-${i}:1`]).flat();
    const r = await cli(['order', 'create', ...items]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('error: the order (--item) may have at most 100 items');
  });

  it('when an --item names an unknown sku, then the message names the sku', async () => {
    const r = await cli(['order', 'create', '--item', 'NO-SUCH-SKU:1']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toMatch(/^error: .*NO-SUCH-SKU/);
  });

  it('when --customer is too long, then the message names --customer', async () => {
    const r = await cli(['order', 'create', '--item', 'PT-DRL-18V:1', '--customer', 'c'.repeat(65)]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('error: --customer may have at most 64 characters');
  });

  it('when a list filter is refused, then the message names its flag', async () => {
    const r = await cli(['product', 'list', '--category', 'x'.repeat(300)]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('error: --category may have at most 100 characters');
  });

  it('when --idempotency-key is not printable ASCII, then it exits 2 naming the flag, before contacting anyone', async () => {
    const r = await runCli(['order', 'create', '--item', 'PT-DRL-18V:1', '--idempotency-key', '3f1c…', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--idempotency-key <key>' argument '3f1c…' is invalid");
  });

  it('when the order on stdin has a bad quantity, then the message keeps the JSON path the user wrote', async () => {
    const r = await cli(['order', 'create'], {}, '{"items":[{"sku":"PT-DRL-18V","quantity":0}]}');
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('error: items[0].quantity must be at least 1');
  });

  it('when signing up with a malformed --email or an empty --name, then the message names the flag', async () => {
    const email = await cli(['customer', 'create', '--email', 'not-an-email', '--name', 'Ada'], { BUILDFLOW_PASSWORD: 'a fine passphrase' });
    expect(email.code).toBe(4);
    expect(email.stderr.trim()).toMatch(/^error: --email /);
    const name = await cli(['customer', 'create', '--email', 'ada@example.com', '--name', ''], { BUILDFLOW_PASSWORD: 'a fine passphrase' });
    expect(name.code).toBe(4);
    expect(name.stderr.trim()).toBe('error: --name must not be empty');
  });
});

describe('positional arguments in the user terms', () => {
  // The server refuses a path parameter by its route name (`path.id must …`), or, past its length
  // limit for a path segment, without naming it at all; the user typed the argument `--help` shows.
  const long = 'x'.repeat(120);
  const cases: { args: string[]; says: string }[] = [
    { args: ['order', 'get', 'r'.repeat(65)], says: '<idOrReference> may have at most 64 characters' },
    { args: ['order', 'get', long], says: '<idOrReference> is too long (120 characters)' },
    { args: ['order', 'cancel', 'r'.repeat(65)], says: '<idOrReference> may have at most 64 characters' },
    { args: ['order', 'history', long], says: '<idOrReference> is too long (120 characters)' },
    { args: ['product', 'get', 'bad!sku'], says: '<sku> must be letters, digits, ".", "_" or "-" (starting with a letter or digit), at most 64 characters' },
    { args: ['product', 'get', long], says: '<sku> is too long (120 characters)' },
    { args: ['track', 'TRK-1'], says: '<trackingCode> may contain only letters and digits' },
    { args: ['track', 't'.repeat(33)], says: '<trackingCode> may have at most 32 characters' },
    { args: ['shipment', 'update', 'TRK-1', '--status', 'shipped'], says: '<trackingCode> may contain only letters and digits' },
    { args: ['customer', 'disable', 'c'.repeat(65)], says: '<id> may have at most 64 characters' },
    { args: ['webhook', 'get', 'e'.repeat(41)], says: '<id> may have at most 40 characters' },
    { args: ['webhook', 'deliveries', long], says: '<id> is too long (120 characters)' },
    { args: ['webhook', 'replay', 'ep_1', 'm'.repeat(41)], says: '[deliveryId] may have at most 40 characters' },
    { args: ['webhook', 'replay', 'ep_1', long], says: '[deliveryId] is too long (120 characters)' },
    { args: ['notification', 'list', '--order', 'r'.repeat(65)], says: '--order may have at most 64 characters' },
  ];
  for (const c of cases) {
    it(`when \`${c.args.join(' ').slice(0, 40)}…\` is refused, then it exits 4 saying: ${c.says}`, async () => {
      const r = await cli(c.args);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr.trim()).toBe(`error: ${c.says}`);
    });
  }

  it('when --json is given, then the JSON error names the argument too', async () => {
    const r = await cli(['order', 'get', 'r'.repeat(65), '--json']);
    expect(r.code).toBe(4);
    expect(json(r)).toEqual({ error: { code: 'VALIDATION_FAILED', message: '<idOrReference> may have at most 64 characters' } });
  });
});

describe('which identity acts', () => {
  it('when the admin key is exported and a login is saved, then stderr says the admin acts, and an order without --customer is said to have no owner', async () => {
    const email = `who-${Date.now()}@example.com`;
    const asCustomer = { BUILDFLOW_ADMIN_KEY: '', BUILDFLOW_PASSWORD: 'a fine passphrase' };
    expect((await cli(['customer', 'create', '--email', email, '--name', 'Who'], asCustomer)).code).toBe(0);
    expect((await cli(['login', '--email', email], asCustomer)).code).toBe(0);

    // The saved login alone: no notice.
    const mine = await cli(['order', 'create', '--item', 'PT-DRL-18V:1', '--json'], { BUILDFLOW_ADMIN_KEY: '' });
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stderr).toBe('');

    const both = await cli(['order', 'create', '--item', 'PT-DRL-18V:1', '--json']);
    expect(both.code, both.stderr).toBe(0);
    const reference = json(both).reference as string;
    expect(both.stderr.trim().split('\n')).toEqual([
      `acting as the admin (BUILDFLOW_ADMIN_KEY); not using ${email} (saved login)`,
      `note: order ${reference} was placed with the admin key and no --customer: it has no owner, and no customer's order list shows it`,
    ]);

    // The customer's own list shows the first order, not the ownerless one.
    const list = json(await cli(['order', 'list', '--json'], { BUILDFLOW_ADMIN_KEY: '' }));
    const references = list.items.map((o: { reference: string }) => o.reference);
    expect(references).toContain(json(mine).reference);
    expect(references).not.toContain(reference);
  });
});

describe('notification list', () => {
  it("when a customer's order is confirmed, then notification list shows its notification, alone with --order", async () => {
    const email = `notes-${Date.now()}@example.com`;
    const own = tempDir('buildflow-cli-notes-');
    const env = { BUILDFLOW_ADMIN_KEY: '', BUILDFLOW_PASSWORD: 'a fine passphrase', BUILDFLOW_CONFIG_DIR: own.dir };
    try {
      expect((await cli(['customer', 'create', '--email', email, '--name', 'Notes'], env)).code).toBe(0);
      expect((await cli(['login', '--email', email], env)).code).toBe(0);
      const first = json(await cli(['order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--json'], env));
      const second = json(await cli(['order', 'create', '--item', 'HT-HAM-16OZ:1', '--wait', '--json'], env));
      expect([first.status, second.status]).toEqual(['confirmed', 'confirmed']);

      let all: any = { items: [] };
      for (let i = 0; i < 50 && all.items.length < 2; i++) {
        all = json(await cli(['notification', 'list', '--json'], env));
        if (all.items.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(all.items.map((n: { orderId: string; kind: string }) => [n.orderId, n.kind])).toEqual([
        [second.id, 'order_confirmed'],
        [first.id, 'order_confirmed'],
      ]);

      const one = await cli(['notification', 'list', '--order', first.reference, '--json'], env);
      expect(one.code).toBe(0);
      expect(json(one).items).toEqual([{ id: expect.any(Number), orderId: first.id, orderReference: first.reference, kind: 'order_confirmed', message: `Your order ${first.reference} is confirmed and will ship soon.`, createdAt: expect.any(String) }]);

      const table = await cli(['notification', 'list', '--order', first.reference], env);
      // People read the order's reference, not its UUID.
      expect(table.stdout).toMatch(new RegExp(`${first.reference}\\W+order_confirmed.*is confirmed`));
      expect(table.stdout).not.toContain(first.id);
    } finally {
      own.remove();
    }
  });
});
