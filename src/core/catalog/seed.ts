import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { SKU_PATTERN } from '../orders/validate-items.js';
import { saveProductIn, type ProductInput } from './products.js';

/**
 * Loads a catalog in one unit of work: all of it or, on any failure, none. Safe to run again:
 * existing products get the file's name, category and price but keep their stock, so a re-run
 * never adds stock twice.
 */
export async function seedCatalog(units: UnitRunner, products: readonly ProductInput[]): Promise<{ created: number; updated: number }> {
  return units.run(
    async (uow) => {
      let created = 0;
      for (const p of products) if ((await saveProductIn(uow, p)).created) created++;
      return { created, updated: products.length - created };
    },
    { durable: true },
  );
}

/** Checks the shape of a catalog file's content, naming the first bad entry. */
export function parseCatalog(data: unknown): ProductInput[] {
  const list = Array.isArray(data) ? data : (data as { products?: unknown })?.products;
  if (!Array.isArray(list)) throw new BuildflowError('VALIDATION_FAILED', 'catalog must be an array of products or { "products": [...] }');
  return list.map((p: any, i: number) => {
    const ok =
      p &&
      typeof p.sku === 'string' &&
      SKU_PATTERN.test(p.sku) &&
      typeof p.name === 'string' &&
      p.name.length > 0 &&
      typeof p.category === 'string' &&
      p.category.length > 0 &&
      Number.isInteger(p.unitPriceCents) &&
      p.unitPriceCents >= 0 &&
      (p.onHand === undefined || (Number.isInteger(p.onHand) && p.onHand >= 0));
    if (!ok) throw new BuildflowError('VALIDATION_FAILED', `catalog entry ${i} needs sku, name, category, unitPriceCents (integer cents) and optional onHand >= 0`);
    return { sku: p.sku, name: p.name, category: p.category, unitPriceCents: p.unitPriceCents, onHand: p.onHand ?? 0 };
  });
}
