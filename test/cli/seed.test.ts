import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/core/domain/limits.js';
import { assertBuilt, hasStackTrace, json, runCli, tempDir } from './harness.js';

beforeAll(() => assertBuilt());
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

const good = { sku: 'OK-1', name: 'Fine', category: 'tools', unitPriceCents: 100, onHand: 5 };

// Each kind of bad product, the field the message must name, and the entry as the file has it.
const BAD: [kind: string, field: string, entry: Record<string, unknown>][] = [
  ['a sku with a space', 'sku', { ...good, sku: 'NO GOOD' }],
  ['a missing sku', 'sku', { name: 'x', category: 'x', unitPriceCents: 1 }],
  ['a missing name', 'name', { sku: 'B-1', category: 'x', unitPriceCents: 1 }],
  ['a name too long', 'name', { ...good, sku: 'B-2', name: 'n'.repeat(LIMITS.nameMaxLength + 1) }],
  ['an empty category', 'category', { ...good, sku: 'B-3', category: '' }],
  ['a category too long', 'category', { ...good, sku: 'B-4', category: 'c'.repeat(LIMITS.categoryMaxLength + 1) }],
  ['a negative price', 'unitPriceCents', { ...good, sku: 'B-5', unitPriceCents: -1 }],
  ['a price above the limit', 'unitPriceCents', { ...good, sku: 'B-6', unitPriceCents: LIMITS.maxUnitPriceCents + 1 }],
  ['a fractional price', 'unitPriceCents', { ...good, sku: 'B-7', unitPriceCents: 9.99 }],
  ['a price given as text', 'unitPriceCents', { ...good, sku: 'B-8', unitPriceCents: '100' }],
  ['negative stock', 'onHand', { ...good, sku: 'B-9', onHand: -3 }],
  ['stock above the limit', 'onHand', { ...good, sku: 'B-10', onHand: LIMITS.maxStock + 1 }],
  ['a field products do not have', 'reserved', { ...good, sku: 'B-11', reserved: 2 }],
  ['a sku listed twice', 'sku', { ...good }],
];

function productCount(dataDir: string): number {
  const file = join(dataDir, 'buildflow.db');
  if (!existsSync(file)) return 0;
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const hasTable = db.prepare("select count(*) as n from sqlite_master where name = 'products'").get() as { n: number };
    return hasTable.n === 0 ? 0 : (db.prepare('select count(*) as n from products').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('buildflow seed with a bad catalog', () => {
  it.each(BAD)('when the catalog has %s, then it exits 4 naming the product and the field, and writes nothing', async (_kind, field, entry) => {
    const dir = tempDir();
    dirs.push(dir);
    const file = dir.file('catalog.json', [good, entry]);
    const r = await runCli(['seed', file, '--data-dir', dir.dir, '--json']);
    expect(r.code).toBe(4);
    const { error } = json<{ error: { code: string; message: string } }>(r);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('catalog entry 1');
    if (typeof entry.sku === 'string' && LIMITS.skuPattern.test(entry.sku)) expect(error.message).toContain(`(${entry.sku})`);
    expect(error.message).toContain(`${field} `);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(productCount(dir.dir)).toBe(0);
  });
});
