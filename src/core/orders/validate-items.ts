import { BuildflowError } from '../errors.js';
import type { RequestedItem } from '../domain/pricing.js';
import { LIMITS } from '../domain/limits.js';

/** Largest quantity of one line: far above any real basket, far below integer overflow of totals. */
export const MAX_QUANTITY = LIMITS.maxQuantity;
const SKU_PATTERN = LIMITS.skuPattern;

/**
 * Checks an order request before anything is written. The HTTP schema says the same, but core
 * checks too: the CLI, the seeder and library users reach core without that schema.
 */
export function validateItems(items: readonly RequestedItem[], maxItems: number): void {
  if (!Array.isArray(items) || items.length === 0) {
    throw new BuildflowError('VALIDATION_FAILED', 'an order needs at least one item');
  }
  if (items.length > maxItems) {
    throw new BuildflowError('VALIDATION_FAILED', `an order may have at most ${maxItems} items`);
  }
  for (const [i, item] of items.entries()) {
    if (typeof item.sku !== 'string' || !SKU_PATTERN.test(item.sku)) {
      throw new BuildflowError('VALIDATION_FAILED', `items[${i}].sku is not a valid sku`);
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw new BuildflowError('VALIDATION_FAILED', `items[${i}].quantity must be an integer from 1 to ${MAX_QUANTITY}`);
    }
  }
}

export { SKU_PATTERN };
