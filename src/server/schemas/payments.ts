import { Type, type Static } from '@sinclair/typebox';
import type { LedgerEntryView } from '../../core/payments/refunds.js';
import { MAX_QUANTITY } from '../../core/orders/validate-items.js';
import { IdempotencyKey, StrictObject, StringEnum, type SameShape } from './common.js';
import { Sku } from './products.js';

export const LedgerEntrySchema = StrictObject({
  id: Type.Integer(),
  orderId: Type.String(),
  kind: StringEnum(['authorization', 'capture', 'void', 'refund'] as const),
  amountCents: Type.Integer(),
  status: StringEnum(['pending', 'succeeded', 'failed'] as const, { description: '`pending` until the provider has answered' }),
  idempotencyKey: Type.String({ description: 'The key the provider call carries; a retried call reuses it' }),
  providerRef: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  returnId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof LedgerEntrySchema>, LedgerEntryView>;

export const LedgerResponse = StrictObject({ items: Type.Array(LedgerEntrySchema) });

export const RefundBody = StrictObject({
  amountCents: Type.Optional(Type.Integer({ minimum: 1, description: 'The amount to refund; or name `items`' })),
  items: Type.Optional(
    Type.Array(StrictObject({ sku: Sku, quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }) }), {
      minItems: 1,
      maxItems: 100,
      description: 'Lines to refund at the price paid; or give `amountCents`',
    }),
  ),
  reason: Type.String({ minLength: 1, maxLength: 500 }),
});

export const RefundHeaders = Type.Object({
  'idempotency-key': IdempotencyKey('Required: retrying with the same key and body returns the refund already asked, never a second one'),
});
