import { Type, type Static } from '@sinclair/typebox';
import { CANCEL_REASONS, ORDER_STATUSES } from '../../core/domain/order-status.js';
import type { PricedItem } from '../../core/domain/pricing.js';
import type { HistoryEntry } from '../../core/orders/queries.js';
import { SETTINGS } from '../../core/settings.js';
import type { OrderView } from '../../core/orders/order-view.js';
import { MAX_QUANTITY } from '../../core/orders/validate-items.js';
import { IdempotencyKey, PageQueryProperties, StrictObject, StringEnum, type SameShape } from './common.js';
import { Sku } from './products.js';

export const OrderStatusSchema = StringEnum(ORDER_STATUSES);

export const OrderIdParams = StrictObject({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'Order id, or its reference such as BF-0000001A' }),
});

/** The body of POST /v1/orders; only skus and quantities: prices, totals and status come from the server. */
export function createOrderBody(maxItems: number) {
  return StrictObject({
    items: Type.Array(
      StrictObject({
        sku: Sku,
        quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }),
      }),
      { minItems: 1, maxItems },
    ),
  });
}

/** {@link createOrderBody} with the default BUILDFLOW_MAX_ITEMS. */
export const CreateOrderBody = createOrderBody(SETTINGS.maxItemsPerOrder.default);

/** Query of POST /v1/orders: only the admin may name the owner, and never in the body. */
export const CreateOrderQuery = StrictObject({
  customerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Admin only: place the order on behalf of this customer' })),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(IdempotencyKey('Retrying with the same key and body returns the stored response instead of a second order')),
});

export const PricedItemSchema = StrictObject({
  sku: Type.String(),
  name: Type.String(),
  quantity: Type.Integer(),
  unitPriceCents: Type.Integer(),
  lineTotalCents: Type.Integer(),
});
true satisfies SameShape<Static<typeof PricedItemSchema>, PricedItem>;

export const OrderViewSchema = StrictObject({
  id: Type.String(),
  reference: Type.String({ description: 'Short human reference: the order number in Crockford base32, at least 8 digits, such as BF-0000007K; unique, later orders get higher numbers' }),
  status: OrderStatusSchema,
  cancelReason: Type.Optional(StringEnum(CANCEL_REASONS, { description: 'Present when status is cancelled' })),
  items: Type.Array(PricedItemSchema),
  totalCents: Type.Integer(),
  trackingCode: Type.Optional(Type.String({ description: 'Present once a shipment exists' })),
  authorizedCents: Type.Integer({ description: 'Authorized by the payment provider and not voided' }),
  capturedCents: Type.Integer({ description: 'Captured (taken) of the authorization' }),
  refundedCents: Type.Integer({ description: 'Refunded of the capture' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof OrderViewSchema>, OrderView>;

export const ListOrdersQuery = StrictObject({
  status: Type.Optional(OrderStatusSchema),
  ...PageQueryProperties,
});

export const HistoryEntrySchema = StrictObject({
  from: Type.Union([OrderStatusSchema, Type.Null()]),
  to: OrderStatusSchema,
  reason: Type.Optional(Type.String()),
  at: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof HistoryEntrySchema>, HistoryEntry>;

export const HistoryResponse = StrictObject({ items: Type.Array(HistoryEntrySchema) });
