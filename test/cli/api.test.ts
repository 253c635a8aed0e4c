import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, hasStackTrace, json, runCli, startServer, tempDir, type RunResult } from './harness.js';

// The HTTP commands against a real `buildflow serve` (with its workers) on a seeded catalog.
const tmp = tempDir();
let server: Awaited<ReturnType<typeof startServer>>;

const cli = (...args: string[]): Promise<RunResult> => runCli([...args, '--url', server.url]);

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  const lowStock = tmp.file('low-stock.json', [{ sku: 'TEST-LAST-ONE', name: 'The last one on the shelf', category: 'Test', unitPriceCents: 500, onHand: 1 }]);
  expect((await runCli(['seed', lowStock, '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir);
});

afterAll(async () => {
  try {
    if (server) {
      // SIGTERM is a graceful shutdown: in-flight requests and work finish, the process exits 0.
      const code = await server.stop();
      expect(code, server.output().stderr).toBe(0);
      expect(server.output().stderr).toContain('"msg":"stopped"');
    }
  } finally {
    tmp.remove();
  }
});

describe('buildflow over HTTP', () => {
  it('when listing products as JSON, then it prints a page of product views', async () => {
    const r = await cli('product', 'list', '--limit', '5', '--json');
    expect(r.code).toBe(0);
    const page = json(r);
    expect(page.items).toHaveLength(5);
    expect(typeof page.nextCursor).toBe('string');
    expect(page.items[0]).toEqual({
      sku: expect.any(String),
      name: expect.any(String),
      category: expect.any(String),
      unitPriceCents: expect.any(Number),
      onHand: expect.any(Number),
      reserved: expect.any(Number),
      available: expect.any(Number),
      updatedAt: expect.any(String),
    });

    const next = json(await cli('product', 'list', '--limit', '5', '--cursor', page.nextCursor, '--json'));
    expect(next.items[0].sku > page.items[4].sku).toBe(true);
  });

  it('when listing products for people, then it prints a table with prices in currency units', async () => {
    const r = await cli('product', 'list', '--category', 'Test');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sku.*name.*category.*price.*available.*on hand.*reserved/);
    expect(r.stdout).toMatch(/TEST-LAST-ONE.*5\.00/);
  });

  it('when getting a product that does not exist, then it exits 3', async () => {
    const r = await cli('product', 'get', 'NO-SUCH-SKU');
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe('error: product NO-SUCH-SKU not found');
    expect(r.stdout).toBe('');
  });

  it('when creating an order with --wait, then it prints the confirmed order and exits 0', async () => {
    const r = await cli('order', 'create', '--item', 'PT-DRL-18V:1', '--item', 'FS-SCR-WD-8X2:3', '--wait', '--json');
    expect(r.code, r.stderr).toBe(0);
    const order = json(r);
    expect(order).toMatchObject({
      id: expect.any(String),
      reference: expect.stringMatching(/^BF-/),
      status: 'confirmed',
      totalCents: 12999 + 3 * 897,
      trackingCode: expect.stringMatching(/^TRK/),
    });
    expect(order.items).toEqual([
      { sku: 'PT-DRL-18V', name: expect.any(String), quantity: 1, unitPriceCents: 12999, lineTotalCents: 12999 },
      { sku: 'FS-SCR-WD-8X2', name: expect.any(String), quantity: 3, unitPriceCents: 897, lineTotalCents: 2691 },
    ]);
    // stderr: the reference at acceptance, and (acting with the admin key, no --customer) that the order has no owner.
    expect(r.stderr.trim().split('\n')).toEqual([
      `note: order ${order.reference} was placed with the admin key and no --customer: it has no owner, and no customer's order list shows it`,
      `order ${order.reference} accepted (pending); waiting for the pipeline (Ctrl-C stops waiting, not the order)`,
    ]);

    const byReference = await cli('order', 'get', order.reference.toLowerCase(), '--json');
    expect(byReference.code).toBe(0);
    expect(json(byReference)).toMatchObject({ id: order.id, status: 'confirmed' });

    const table = await cli('order', 'get', order.reference);
    expect(table.stdout).toContain(order.reference);
    expect(table.stdout).toMatch(/total\s*│\s*156\.90/);
  });

  it('when the order comes as JSON on stdin, then it is placed the same way', async () => {
    const body = JSON.stringify({ items: [{ sku: 'HT-HAM-16OZ', quantity: 2 }] });
    const r = await runCli(['order', 'create', '--wait', '--json', '--url', server.url], { input: body });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'confirmed', totalCents: 2 * 1998, items: [{ sku: 'HT-HAM-16OZ', quantity: 2 }] });

    const invalid = await runCli(['order', 'create', '--url', server.url], { input: '{"items": [' });
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toMatch(/^error: the order on stdin is not valid JSON/);
  });

  it('when the same idempotency key is used twice, then one order is placed', async () => {
    const args = ['order', 'create', '--item', 'PA-TAPE-1-88:1', '--idempotency-key', 'cli-test-key-1', '--json'];
    const first = json(await cli(...args));
    const second = json(await cli(...args));
    expect(second.id).toBe(first.id);
  });

  it('when listing confirmed orders, then only confirmed orders are printed', async () => {
    const r = await cli('order', 'list', '--status', 'confirmed', '--json');
    expect(r.code).toBe(0);
    const page = json(r);
    expect(page.items.length).toBeGreaterThanOrEqual(2);
    expect(page.items.every((o: { status: string }) => o.status === 'confirmed')).toBe(true);

    expect((await cli('order', 'list', '--status', 'lost')).code).toBe(2);
  });

  it('when an order names an unknown sku, then it exits 4 with one line on stderr', async () => {
    const r = await cli('order', 'create', '--item', 'NO-SUCH-SKU:1');
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: .*NO-SUCH-SKU/);
    expect(hasStackTrace(r.stderr)).toBe(false);

    const asJson = await cli('order', 'create', '--item', 'NO-SUCH-SKU:1', '--json');
    expect(json(asJson)).toEqual({ error: { code: 'UNKNOWN_SKU', message: expect.stringContaining('NO-SUCH-SKU') } });
  });

  it('when --wait sees the order cancelled, then it prints the order and exits 6 naming the reason', async () => {
    const r = await cli('order', 'create', '--item', 'TEST-LAST-ONE:2', '--wait', '--json');
    expect(r.code).toBe(6);
    expect(json(r)).toMatchObject({ status: 'cancelled', cancelReason: 'out_of_stock' });
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^error: order BF-\w+ was cancelled: out_of_stock$/);
  });

  it('when the admin cancels a confirmed order, then it is cancelled; cancelling it again exits 4; an unknown order exits 3', async () => {
    const placed = json(await cli('order', 'create', '--item', 'HT-TAPE-25:1', '--wait', '--json'));
    expect(placed.status).toBe('confirmed');
    const cancelled = await cli('order', 'cancel', placed.id, '--json');
    expect(cancelled.code).toBe(0);
    expect(json(cancelled)).toMatchObject({ status: 'cancelled', cancelReason: 'customer_cancelled' });
    const r = await cli('order', 'cancel', placed.id, '--json');
    expect(r.code).toBe(4);
    expect(json(r).error.code).toBe('ORDER_NOT_CANCELLABLE');

    expect((await cli('order', 'get', 'BF-00000000')).code).toBe(3);
  });

  it('when the admin refunds part of a confirmed order, then the refund is pending, a refund past the capture exits 4, and order payments lists the ledger', async () => {
    const placed = json(await cli('order', 'create', '--item', 'HT-TAPE-25:2', '--wait', '--json'));
    expect(placed.status).toBe('confirmed');
    const refund = await cli('order', 'refund', placed.reference, '--amount', '100', '--reason', 'late delivery', '--json');
    expect(refund.code, refund.stderr).toBe(0);
    expect(json(refund)).toMatchObject({ kind: 'refund', amountCents: 100, status: 'pending', reason: 'late delivery' });

    const tooMuch = await cli('order', 'refund', placed.reference, '--amount', String(placed.totalCents), '--reason', 'all of it', '--json');
    expect(tooMuch.code).toBe(4);
    expect(json(tooMuch).error.code).toBe('REFUND_EXCEEDS_CAPTURED');
    expect((await cli('order', 'refund', placed.reference, '--reason', 'neither')).code).toBe(2);

    const kinds = async () => json(await cli('order', 'payments', placed.reference, '--json')).items.map((e: { kind: string; status: string }) => `${e.kind} ${e.status}`);
    for (let i = 0; i < 50 && (await kinds()).includes('refund pending'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await kinds()).toEqual(['authorization succeeded', 'capture succeeded', 'refund succeeded']);
    const table = await cli('order', 'payments', placed.reference);
    expect(table.stdout).toMatch(/refund\W+1\.00\W+succeeded\W+late delivery/);
  });
});
