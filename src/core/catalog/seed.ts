import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { checkCatalogProduct } from '../domain/limits.js';
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

/**
 * Checks a catalog file's content against the domain limits (domain/limits.ts), naming the first
 * bad entry and field, before anything is written; a sku listed twice is refused too.
 */
export function parseCatalog(data: unknown): ProductInput[] {
  const list = Array.isArray(data) ? data : (data as { products?: unknown })?.products;
  if (!Array.isArray(list)) throw new BuildflowError('VALIDATION_FAILED', 'catalog must be an array of products or { "products": [...] }');
  const seen = new Set<string>();
  return list.map((entry: unknown, i: number) => {
    const product = checkCatalogProduct(entry, i);
    if (seen.has(product.sku)) throw new BuildflowError('VALIDATION_FAILED', `catalog entry ${i} (${product.sku}): sku is listed twice`, { index: i, field: 'sku' });
    seen.add(product.sku);
    return product;
  });
}
