import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, startSeededServer, type RunResult } from './harness.js';

// `order return`, `order returns` and `return receive` against a real `buildflow serve` (with its
// workers), then `doctor` over the same data directory.
let target: Awaited<ReturnType<typeof startSeededServer>>;
const cli = (...args: string[]): Promise<RunResult> => target.cli(...args);

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  target = await startSeededServer();
});
afterAll(async () => target?.stop());

describe('returns over the CLI', () => {
  it('when a delivered order is partly returned and received, then each command prints it, refusals exit 4 or 3, and doctor catches a ledger altered by hand', async () => {
    const placed = json(await cli('order', 'create', '--item', 'HT-TAPE-25:3', '--wait', '--json'));
    expect(placed.status).toBe('confirmed');
    const unit = placed.items[0].unitPriceCents as number;
    for (const status of ['shipped', 'delivered']) {
      expect((await cli('shipment', 'update', placed.trackingCode, '--status', status)).code).toBe(0);
      await until(status, async () => json(await cli('order', 'get', placed.reference, '--json')).status === status);
    }

    const early = json(await cli('order', 'create', '--item', 'HT-TAPE-25:1', '--wait', '--json'));
    const notShipped = await cli('order', 'return', early.reference, '--item', 'HT-TAPE-25:1', '--reason', 'x', '--json');
    expect(notShipped.code).toBe(4);
    expect(json(notShipped).error.code).toBe('RETURN_NOT_ALLOWED');

    const asked = await cli('order', 'return', placed.reference, '--item', 'HT-TAPE-25:2', '--reason', 'too many', '--json');
    expect(asked.code, asked.stderr).toBe(0);
    const ret = json(asked);
    expect(ret).toMatchObject({ orderId: placed.id, status: 'requested', lines: [{ sku: 'HT-TAPE-25', quantity: 2, unitPriceCents: unit }] });
    const tooMany = await cli('order', 'return', placed.reference, '--item', 'HT-TAPE-25:2', '--reason', 'again');
    expect(tooMany.code).toBe(4);
    expect(tooMany.stderr).toMatch(/HT-TAPE-25.*bought 3, already returned 2/);
    expect((await cli('order', 'return', placed.reference, '--reason', 'no item')).code).toBe(2);

    // One arrived resellable, one broken.
    const got = await cli('return', 'receive', ret.id, '--item', 'HT-TAPE-25:2:norestock', '--json');
    expect(got.code, got.stderr).toBe(0);
    expect(json(got)).toMatchObject({ status: 'received', refundCents: 2 * unit, lines: [{ receivedQuantity: 2, restock: false }] });
    const twice = await cli('return', 'receive', ret.id, '--item', 'HT-TAPE-25:1', '--json');
    expect(twice.code).toBe(4);
    expect(json(twice).error.code).toBe('RETURN_ALREADY_RECEIVED');
    expect((await cli('return', 'receive', 'no-such-return', '--item', 'HT-TAPE-25:1')).code).toBe(3);
    expect((await cli('return', 'receive', ret.id, '--item', 'HT-TAPE-25')).code).toBe(2);

    const listed = await cli('order', 'returns', placed.reference);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${ret.id}\\W+received\\W+2 × HT-TAPE-25 \\(not restocked\\)\\W+${((2 * unit) / 100).toFixed(2).replace('.', '\\.')}\\W+too many`));
    expect(json(await cli('order', 'returns', placed.reference, '--json')).items).toHaveLength(1);

    const refunds = async () => json(await cli('order', 'payments', placed.reference, '--json')).items.filter((e: { kind: string }) => e.kind === 'refund');
    await until('the refund', async () => (await refunds())[0]?.status === 'succeeded');
    expect(await refunds()).toMatchObject([{ amountCents: 2 * unit, returnId: ret.id }]);
    expect((await runCli(['doctor', '--data-dir', target.dataDir, '--json'])).code).toBe(0);

    // The return's refund cut short by hand: doctor exits 9 and names the order.
    const db = new Database(join(target.dataDir, 'buildflow.db'));
    try {
      db.prepare(`update payment_ledger set amount_cents = amount_cents - 1 where return_id = ?`).run(ret.id);
    } finally {
      db.close();
    }
    const doctor = await runCli(['doctor', '--data-dir', target.dataDir, '--json']);
    expect(doctor.code).toBe(9);
    const money = json(doctor).checks.find((c: { name: string }) => c.name === 'money-reconciliation');
    expect(money.status).toBe('fail');
    expect(money.detail).toContain(`${placed.reference}: return ${ret.id} refunded ${2 * unit - 1} of its lines' price ${2 * unit}`);
  });
});
