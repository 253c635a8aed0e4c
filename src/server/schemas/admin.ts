import { Type, type Static } from '@sinclair/typebox';
import type { StockDrift } from '../../core/catalog/reconcile.js';
import type { PaymentView } from '../../core/payments/list-payments.js';
import { PageQueryProperties, StrictObject, StringEnum, type SameShape } from './common.js';

export const PaymentViewSchema = StrictObject({
  orderId: Type.String(),
  status: StringEnum(['pending', 'authorized', 'captured', 'declined', 'voided', 'refunded'] as const),
  amountCents: Type.Integer(),
  providerRef: Type.Optional(Type.String({ description: "The provider's reference, once it answered" })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof PaymentViewSchema>, PaymentView>;

export const ListPaymentsQuery = StrictObject({
  order: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only the payment of this order id' })),
  ...PageQueryProperties,
});

export const StockDriftSchema = StrictObject({
  sku: Type.String(),
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  ledgerOnHand: Type.Integer({ description: 'Sum of the on-hand deltas of the stock ledger' }),
  ledgerReserved: Type.Integer({ description: 'Sum of the reserved deltas of the stock ledger' }),
});
true satisfies SameShape<Static<typeof StockDriftSchema>, StockDrift>;

export const StockDriftResponse = StrictObject({
  items: Type.Array(StockDriftSchema, { description: 'Products whose counters disagree with their ledger; empty when all reconcile' }),
});
