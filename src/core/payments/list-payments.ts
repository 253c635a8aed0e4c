import type { Kysely, Selectable } from 'kysely';
import type { Database, PaymentStatus, PaymentsTable } from '../db/schema.js';
import { pageByKey } from '../keyset-page.js';
import type { Page } from '../pagination.js';

/** One payment as the admin sees it: the pipeline's record of a charge asked of the provider. */
export interface PaymentView {
  orderId: string;
  status: PaymentStatus;
  amountCents: number;
  /** The provider's reference of the charge, once it answered. */
  providerRef?: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * Payments ordered by order id (a stable order for paging while payments are still being written),
 * optionally those of one order. Lets load tests and audits check that every confirmed order was
 * charged exactly once and no other order was.
 */
export async function listPayments(db: Kysely<Database>, q: { order?: string; limit?: number; cursor?: string }): Promise<Page<PaymentView>> {
  let query = db.selectFrom('payments').selectAll();
  if (q.order) query = query.where('order_id', '=', q.order);
  return pageByKey(query, q, { column: 'order_id', type: 'string', order: 'asc', of: (p) => p.order_id }, (rows) => rows.map(toPaymentView));
}

function toPaymentView(p: Selectable<PaymentsTable>): PaymentView {
  return {
    orderId: p.order_id,
    status: p.status,
    amountCents: Number(p.amount_cents),
    ...(p.provider_ref ? { providerRef: p.provider_ref } : {}),
    createdAt: new Date(Number(p.created_at)).toISOString(),
    updatedAt: new Date(Number(p.updated_at)).toISOString(),
  };
}
