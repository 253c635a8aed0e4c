import type { OrderView } from '../core/orders/order-view.js';
import { formatCents, printJson, printLine, printRecord, printTable } from './output.js';

function itemsSummary(o: OrderView): string {
  return o.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ');
}

/** Orders as a table: reference, id, status, total, items (and cancel reason when any has one). */
export function printOrderTable(orders: readonly OrderView[]): void {
  if (orders.length === 0) return printLine('no orders');
  const withReason = orders.some((o) => o.cancelReason);
  const head = ['reference', 'id', 'status', 'total', 'items', ...(withReason ? ['cancel reason'] : [])];
  printTable(
    head,
    orders.map((o) => [o.reference, o.id, o.status, formatCents(o.totalCents), itemsSummary(o), ...(withReason ? [o.cancelReason ?? ''] : [])]),
  );
}

/** One order in full: its fields, then its lines. */
export function printOrderDetail(o: OrderView): void {
  printRecord([
    ['reference', o.reference],
    ['id', o.id],
    ['status', o.status],
    ...(o.cancelReason ? ([['cancel reason', o.cancelReason]] as [string, string][]) : []),
    ['total', formatCents(o.totalCents)],
    ...(o.trackingCode ? ([['tracking code', o.trackingCode]] as [string, string][]) : []),
    ['created', o.createdAt],
    ['updated', o.updatedAt],
  ]);
  printTable(
    ['sku', 'name', 'quantity', 'unit price', 'line total'],
    o.items.map((i) => [i.sku, i.name, i.quantity, formatCents(i.unitPriceCents), formatCents(i.lineTotalCents)]),
  );
}

/** An order as JSON or in full for people. */
export function printOrder(o: OrderView, json: boolean | undefined): void {
  if (json) printJson(o);
  else printOrderDetail(o);
}
