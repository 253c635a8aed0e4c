import { Type, type Static } from '@sinclair/typebox';
import type { ReturnView } from '../../core/returns/return-view.js';
import { MAX_QUANTITY } from '../../core/orders/validate-items.js';
import { IdempotencyKey, StrictObject, StringEnum, type SameShape } from './common.js';
import { Sku } from './products.js';

const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY });

export const ReturnLineSchema = StrictObject({
  sku: Sku,
  quantity: Type.Integer({ description: 'Asked to be returned' }),
  unitPriceCents: Type.Integer({ description: 'The price paid per unit: what is refunded per received unit' }),
  receivedQuantity: Type.Optional(Type.Integer({ description: 'Once received: how many arrived' })),
  restock: Type.Optional(Type.Boolean({ description: 'Once received: whether they went back on hand' })),
});

export const ReturnSchema = StrictObject({
  id: Type.String(),
  orderId: Type.String(),
  status: StringEnum(['requested', 'received'] as const),
  reason: Type.String(),
  requestedBy: StringEnum(['customer', 'admin'] as const),
  lines: Type.Array(ReturnLineSchema),
  refundCents: Type.Optional(Type.Integer({ description: "Once received: the received lines' price, refunded through the payment ledger" })),
  createdAt: Type.String({ format: 'date-time' }),
  receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
});
true satisfies SameShape<Static<typeof ReturnSchema>, ReturnView>;

export const ReturnsResponse = StrictObject({ items: Type.Array(ReturnSchema) });

export const ReturnBody = StrictObject({
  items: Type.Array(StrictObject({ sku: Sku, quantity: Quantity }), { minItems: 1, maxItems: 100, description: 'Lines to send back' }),
  reason: Type.String({ minLength: 1, maxLength: 500 }),
});

export const ReturnIdParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Return id' }) });

export const ReceiveBody = StrictObject({
  items: Type.Array(
    StrictObject({
      sku: Sku,
      quantity: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: 'How many arrived (at most what the return asks)' }),
      restock: Type.Boolean({ description: 'Put them back on hand (false: damaged, not resold)' }),
    }),
    { maxItems: 100, description: 'What arrived, per line of the return; a line not named arrived none' },
  ),
});

export const ReturnHeaders = Type.Object({
  'idempotency-key': Type.Optional(IdempotencyKey('Retrying with the same key and body returns the return already asked instead of a second one')),
});
