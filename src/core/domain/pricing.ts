/** One requested line: a product and how many. */
export interface RequestedItem {
  sku: string;
  quantity: number;
}

/** A priced line as stored with the order. */
export interface PricedItem {
  sku: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
  lineTotalCents: number;
}

/**
 * Sums quantities of the same sku, keeping first-seen order, so an order holds one line per
 * product and reservation checks the total asked for.
 */
export function mergeItems(items: readonly RequestedItem[]): RequestedItem[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * Prices merged items from the catalog. Returns the skus the catalog does not know instead of
 * throwing, so a caller can report all of them at once.
 */
export function priceItems(
  items: readonly RequestedItem[],
  catalog: ReadonlyMap<string, { name: string; unitPriceCents: number }>,
): { items: PricedItem[]; totalCents: number; unknownSkus: string[] } {
  const priced: PricedItem[] = [];
  const unknownSkus: string[] = [];
  let totalCents = 0;
  for (const { sku, quantity } of mergeItems(items)) {
    const product = catalog.get(sku);
    if (!product) {
      unknownSkus.push(sku);
      continue;
    }
    const lineTotalCents = product.unitPriceCents * quantity;
    priced.push({ sku, name: product.name, quantity, unitPriceCents: product.unitPriceCents, lineTotalCents });
    totalCents += lineTotalCents;
  }
  return { items: priced, totalCents, unknownSkus };
}
