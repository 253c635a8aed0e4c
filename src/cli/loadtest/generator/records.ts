/** What the generator did, one record per HTTP request; the history file holds these lines. */
export type RequestOp = 'order' | 'retry' | 'cancel' | 'refund' | 'cancel-paid' | 'product' | 'products' | 'order-get';

export interface StockReading {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface RequestRecord {
  op: RequestOp;
  /** The workload draw this request belongs to. */
  index: number;
  /** The Idempotency-Key of an order placement. */
  key?: string;
  /** 0 when no answer came (refused, reset, timed out). */
  status: number;
  /** The error code of the answer, or the network error's code. */
  code?: string;
  /** The order a 201 (or a cancel) answered about. */
  orderId?: string;
  /** When the request was due (open loop: its slot in the arrival schedule), ms since the epoch. */
  scheduled: number;
  start: number;
  end: number;
  /** Product reads only: readings that showed impossible stock (negative availability, reserved above on hand). */
  badStock?: StockReading[];
}

/** How long a request took as the user saw it: from when it was due, so a stalled generator cannot hide waiting. */
export function latencyOf(r: RequestRecord): number {
  return r.end - r.scheduled;
}

export const INTAKE_OPS: readonly RequestOp[] = ['order', 'retry'];
export const READ_OPS: readonly RequestOp[] = ['product', 'products', 'order-get'];
