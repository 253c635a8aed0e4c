import { BuildflowError } from '../errors.js';

/**
 * The bounds of the catalog and of orders, in one place: the HTTP schemas, the seeder and the CLI
 * all check against these, so no path accepts what another refuses.
 */
export const LIMITS = {
  /** A sku: letters and digits, then also `.`, `_` and `-`, up to 64 characters. */
  skuPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  nameMaxLength: 200,
  categoryMaxLength: 100,
  /** Reasons written to the stock ledger. */
  reasonMaxLength: 200,
  /** Largest price of one unit: keeps totals (price × quantity × items) far inside safe integers. */
  maxUnitPriceCents: 100_000_000,
  /** Largest stock on hand of one product (and largest single adjustment). */
  maxStock: 1_000_000_000,
  /** Largest quantity of one order line. */
  maxQuantity: 10_000,
} as const;

/** A catalog entry as the seeder and the product API take it. */
export interface CatalogProduct {
  sku: string;
  name: string;
  category: string;
  unitPriceCents: number;
  onHand: number;
}

const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
const int = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/**
 * Checks one catalog entry against {@link LIMITS}. Throws VALIDATION_FAILED naming the entry (by
 * sku when it has a usable one, else by position) and the first field that is wrong.
 */
export function checkCatalogProduct(entry: unknown, index: number): CatalogProduct {
  const p = (entry ?? {}) as Record<string, unknown>;
  const who = typeof p.sku === 'string' && LIMITS.skuPattern.test(p.sku) ? `catalog entry ${index} (${p.sku})` : `catalog entry ${index}`;
  const fail = (field: string, rule: string): never => {
    throw new BuildflowError('VALIDATION_FAILED', `${who}: ${field} ${rule}`, { index, field });
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('entry', 'must be an object');
  if (typeof p.sku !== 'string' || !LIMITS.skuPattern.test(p.sku)) fail('sku', `must match ${LIMITS.skuPattern.source}`);
  if (!text(p.name, LIMITS.nameMaxLength)) fail('name', `must be text of 1 to ${LIMITS.nameMaxLength} characters`);
  if (!text(p.category, LIMITS.categoryMaxLength)) fail('category', `must be text of 1 to ${LIMITS.categoryMaxLength} characters`);
  if (!int(p.unitPriceCents, 0, LIMITS.maxUnitPriceCents)) fail('unitPriceCents', `must be an integer from 0 to ${LIMITS.maxUnitPriceCents}`);
  if (p.onHand !== undefined && !int(p.onHand, 0, LIMITS.maxStock)) fail('onHand', `must be an integer from 0 to ${LIMITS.maxStock}`);
  const known = new Set(['sku', 'name', 'category', 'unitPriceCents', 'onHand']);
  const extra = Object.keys(p).find((k) => !known.has(k));
  if (extra) fail(extra, 'is not a product field');
  return { sku: p.sku as string, name: p.name as string, category: p.category as string, unitPriceCents: p.unitPriceCents as number, onHand: (p.onHand as number | undefined) ?? 0 };
}
