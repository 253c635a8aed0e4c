import { Type, type Static } from '@sinclair/typebox';
import type { MovementView, ProductView } from '../../core/catalog/products.js';
import { SKU_PATTERN } from '../../core/orders/validate-items.js';
import { PageQueryProperties, StrictObject, type SameShape } from './common.js';

/** Largest price of one unit: keeps totals (price × 10 000 × items) far inside safe integers. */
const MAX_UNIT_PRICE_CENTS = 100_000_000;
const MAX_STOCK = 1_000_000_000;

export const Sku = Type.String({ pattern: SKU_PATTERN.source, description: 'Stock keeping unit, e.g. HAM-1', examples: ['HAM-1'] });

export const SkuParams = StrictObject({ sku: Sku });

export const ProductViewSchema = StrictObject({
  sku: Type.String(),
  name: Type.String(),
  category: Type.String(),
  unitPriceCents: Type.Integer(),
  onHand: Type.Integer(),
  reserved: Type.Integer({ description: 'Held for orders in progress' }),
  available: Type.Integer({ description: 'onHand - reserved: what new orders can still get' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof ProductViewSchema>, ProductView>;

export const ListProductsQuery = StrictObject({
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  ...PageQueryProperties,
});

export const ProductBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  category: Type.String({ minLength: 1, maxLength: 100 }),
  unitPriceCents: Type.Integer({ minimum: 0, maximum: MAX_UNIT_PRICE_CENTS }),
  onHand: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_STOCK, description: 'Initial stock of a new product; ignored on update' })),
});

const Reason = Type.String({ minLength: 1, maxLength: 200 });

export const StockBody = Type.Union(
  [
    StrictObject({ set: Type.Integer({ minimum: 0, maximum: MAX_STOCK }), reason: Type.Optional(Reason) }, { title: 'Set stock on hand' }),
    StrictObject({ delta: Type.Integer({ minimum: -MAX_STOCK, maximum: MAX_STOCK }), reason: Reason }, { title: 'Change stock on hand by a delta' }),
  ],
  { description: 'Exactly one of `set` or `delta`; a delta needs a reason' },
);

export const MovementViewSchema = StrictObject({
  id: Type.Integer(),
  kind: Type.String({ description: 'adjust, reserve, release or sale' }),
  onHandDelta: Type.Integer(),
  reservedDelta: Type.Integer(),
  orderId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  at: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof MovementViewSchema>, MovementView>;

