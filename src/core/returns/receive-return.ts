import { lockStockOf, restockReturned } from '../catalog/stock.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { authorizationKey } from '../payments/ledger.js';
import { lockOrderRow, writeRefund } from '../payments/refunds.js';
import { notifyOrderEvents } from '../notifications/notify-orders.js';
import { readReturns, type ReturnView } from './return-view.js';
import { sumPerSku } from './request-return.js';

/** What arrived of one line of a return, and whether it goes back on the shelf. */
export interface ReceivedLine {
  sku: string;
  quantity: number;
  restock: boolean;
}

/** The ledger key of a return's refund: one per return, so a retried receipt never refunds twice. */
export function returnRefundKey(orderId: string, returnId: string): string {
  return `${authorizationKey(orderId)}:refund:return:${returnId}`;
}

/**
 * Receives a requested return (admin): records per line what arrived (lines not named arrived
 * none), puts the restocked ones back on hand through the stock ledger (a `return` movement), and
 * refunds the received lines' price through the payment ledger (one refund row keyed by the
 * return, asked of the provider by a worker). In one transaction, guarded by the return's status,
 * so a return is received once; the customer is told (`order.returned`).
 * @throws BuildflowError RETURN_NOT_FOUND, RETURN_ALREADY_RECEIVED, RETURN_EXCEEDS_PURCHASED (more
 * of a line than the return asked), VALIDATION_FAILED (a sku the return does not name),
 * REFUND_EXCEEDS_CAPTURED (the order's money was refunded already by other means)
 */
export async function receiveReturn(units: UnitRunner, returnId: string, received: readonly ReceivedLine[]): Promise<ReturnView> {
  const found = await units.db.selectFrom('returns').select('order_id').where('id', '=', returnId).executeTakeFirst();
  if (!found) throw new BuildflowError('RETURN_NOT_FOUND', `return ${returnId} not found`);
  const orderId = found.order_id;
  await units.run(
    async (uow) => {
      const trx = uow.trx;
      // Products before the order row, as every stock-changing transaction does (see lockStockOf).
      await lockStockOf(trx, [orderId]);
      await lockOrderRow(trx, orderId);
      const ret = await trx.selectFrom('returns').selectAll().where('id', '=', returnId).executeTakeFirstOrThrow();
      if (ret.status !== 'requested') throw new BuildflowError('RETURN_ALREADY_RECEIVED', `return ${returnId} was received already`);
      const lines = await trx.selectFrom('return_lines').selectAll().where('return_id', '=', returnId).execute();
      const arrived = sumPerSku(received);
      const restocked = new Set(received.filter((r) => r.restock).map((r) => r.sku));
      for (const [sku, quantity] of arrived) {
        const line = lines.find((l) => l.sku === sku);
        if (!line) throw new BuildflowError('VALIDATION_FAILED', `return ${returnId} has no line of ${sku}`);
        if (quantity > Number(line.quantity)) {
          throw new BuildflowError('RETURN_EXCEEDS_PURCHASED', `receipt of ${quantity} × ${sku} exceeds the ${Number(line.quantity)} return ${returnId} asks`, {
            sku,
            asked: quantity,
            returnable: Number(line.quantity),
          });
        }
      }
      const refundCents = lines.reduce((s, l) => s + (arrived.get(l.sku) ?? 0) * Number(l.unit_price_cents), 0);
      const moved = await trx
        .updateTable('returns')
        .set({ status: 'received', received_at: uow.now, refund_cents: refundCents })
        .where('id', '=', returnId)
        .where('status', '=', 'requested')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) throw new BuildflowError('RETURN_ALREADY_RECEIVED', `return ${returnId} was received already`);
      for (const l of lines) {
        const quantity = arrived.get(l.sku) ?? 0;
        await trx
          .updateTable('return_lines')
          .set({ received_quantity: quantity, restock: quantity > 0 && restocked.has(l.sku) ? 1 : 0 })
          .where('id', '=', l.id)
          .execute();
      }
      const shelf = lines.filter((l) => restocked.has(l.sku) && (arrived.get(l.sku) ?? 0) > 0).map((l) => ({ sku: l.sku, quantity: arrived.get(l.sku)! }));
      if (shelf.length > 0) await restockReturned(uow, orderId, shelf, `return ${returnId}`);
      if (refundCents > 0) await writeRefund(uow, orderId, refundCents, returnRefundKey(orderId, returnId), { reason: `return: ${ret.reason}`.slice(0, 500), returnId });
      await notifyOrderEvents(uow, [{ orderId, kind: 'order_returned', eventKey: `return:${returnId}`, detail: { returnId, amountCents: refundCents } }]);
    },
    { durable: true },
  );
  return (await readReturns(units.db, { ids: [returnId] }))[0]!;
}
