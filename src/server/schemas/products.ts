import { Type, type Static } from '@sinclair/typebox';
import type { MovementView, ProductView } from '../../core/catalog/products.js';
import { LIMITS } from '../../core/domain/limits.js';
import { PageQueryProperties, StrictObject, type SameShape } from './common.js';

const MAX_UNIT_PRICE_CENTS = LIMITS.maxUnitPriceCents;
const MAX_STOCK = LIMITS.maxStock;

export const Sku = Type.String({ pattern: LIMITS.skuPattern.source, description: 'Stock keeping unit, e.g. HAM-1', examples: ['HAM-1'] });

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
  category: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.categoryMaxLength })),
  ...PageQueryProperties,
});

export const ProductBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: LIMITS.nameMaxLength }),
  category: Type.String({ minLength: 1, maxLength: LIMITS.categoryMaxLength }),
  unitPriceCents: Type.Integer({ minimum: 0, maximum: MAX_UNIT_PRICE_CENTS }),
  onHand: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_STOCK, description: 'Initial stock of a new product; ignored on update' })),
});

const Reason = Type.String({ minLength: 1, maxLength: LIMITS.reasonMaxLength });

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

