import { describe, expect, it } from 'vitest';
import { mergeItems, priceItems } from '../../src/core/domain/pricing.js';

const catalog = new Map([
  ['A', { name: 'Hammer', unitPriceCents: 1250 }],
  ['B', { name: 'Nails', unitPriceCents: 399 }],
]);

describe('pricing', () => {
  it('when a sku appears twice, then its quantities are summed into one line', () => {
    expect(mergeItems([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 2 }, { sku: 'A', quantity: 3 }])).toEqual([
      { sku: 'A', quantity: 4 },
      { sku: 'B', quantity: 2 },
    ]);
  });

  it('when items are priced, then each line and the total use catalog prices', () => {
    const priced = priceItems([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }], catalog);
    expect(priced.items.map((i) => i.lineTotalCents)).toEqual([2500, 1197]);
    expect(priced.totalCents).toBe(3697);
    expect(priced.unknownSkus).toEqual([]);
  });

  it('when a sku is not in the catalog, then it is reported and not priced', () => {
    const priced = priceItems([{ sku: 'A', quantity: 1 }, { sku: 'ZZ', quantity: 1 }], catalog);
    expect(priced.unknownSkus).toEqual(['ZZ']);
    expect(priced.items.map((i) => i.sku)).toEqual(['A']);
  });
});
