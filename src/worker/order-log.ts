import type { UnitRunner } from '../core/db/unit-of-work.js';
import { onOrdersFinal, type FinalOrder } from '../core/observe/order-finals.js';
import type { Logger } from './logger.js';

function amount(cents: number | null): string | null {
  return cents === null ? null : (cents / 100).toFixed(2);
}

/** The fields of an order's final line: who, what, how much, how long; and the message that settled it. */
export function finalOrderFields(o: FinalOrder): Record<string, unknown> {
  return {
    orderId: o.orderId,
    reference: o.reference,
    status: o.status,
    reason: o.reason,
    totalCents: o.totalCents,
    total: amount(o.totalCents),
    sincePlacedMs: o.placedAt === null ? null : Math.max(0, o.at - o.placedAt),
    topic: o.message?.topic ?? null,
    messageId: o.message?.messageId ?? null,
    attempt: o.message?.attempt ?? null,
  };
}

/**
 * One line per order that reached a final state in this process: `info` for a confirmation or a
 * cancellation the business expects (out of stock, declined, expired, cancelled by the customer),
 * `warn` for an order cancelled and compensated because its work failed (dead letter).
 * Returns the function that stops it.
 */
export function logOrderOutcomes(units: UnitRunner, logger: Logger): () => void {
  return onOrdersFinal(units, (orders) => {
    for (const o of orders) {
      const fields = finalOrderFields(o);
      if (o.status === 'confirmed') logger.info(fields, 'order confirmed');
      else if (o.reason === 'failed') logger.warn(fields, 'order cancelled and compensated: its pipeline work failed');
      else logger.info(fields, 'order cancelled');
    }
  });
}
