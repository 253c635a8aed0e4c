import type { CommitEngine } from '../db/commit-engine.js';
import type { RequestedItem } from '../domain/pricing.js';
import type { OrderView } from './order-view.js';
import { orderRequestHash } from './request-hash.js';
import { validateItems } from './validate-items.js';
import { outcomeError, PLACE_ORDERS, type OrderOutcome, type OrderRequest } from './place-orders.js';

export { ORDER_IDEMPOTENCY_SCOPE } from './place-orders.js';

export interface PlaceOrderInput {
  items: RequestedItem[];
  idempotencyKey?: string;
  /** The owner, taken from the caller's credentials; absent for an unowned order placed by the admin. */
  customerId?: string;
  /** With `customerId`: refuse (TOO_MANY_OPEN_ORDERS) when the owner already holds this many pending/reserved orders. */
  maxOpenOrders?: number;
}

/** A placed (or replayed) order. */
export class PlaceOrderResult {
  private view: OrderView | undefined;

  constructor(
    /** The order's id. */
    readonly id: string,
    /** The order's view as JSON text: what the API answers, serialized once where the order was written. */
    readonly json: string,
    /** True when the idempotency key was seen before and the stored response is returned. */
    readonly replayed: boolean,
  ) {}

  /** The order's view, parsed from {@link json} on first use (the HTTP route sends the text as is). */
  get order(): OrderView {
    return (this.view ??= JSON.parse(this.json) as OrderView);
  }
}

function toResult(o: Extract<OrderOutcome, { ok: true }>): PlaceOrderResult {
  return new PlaceOrderResult(o.order.id, o.order.json, o.replayed);
}

/**
 * Order intake: validates a request, fingerprints it for its idempotency key and hands it to the
 * deployment's commit engine, which commits it with the orders that arrive at the same time (group
 * commit) and answers once it is durable and the after-commit hooks have seen it (workers woken,
 * orders counted).
 */
export class OrderIntake {
  constructor(
    private readonly engine: CommitEngine,
    private readonly maxItemsPerOrder: number,
  ) {}

  /** Places an order; resolves once it is durably committed. */
  async place(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    validateItems(input.items, this.maxItemsPerOrder);
    const request: OrderRequest = { items: input.items };
    // The fingerprint only serves to compare a replay with the request that made the key.
    if (input.idempotencyKey) Object.assign(request, { idempotencyKey: input.idempotencyKey, hash: orderRequestHash(input.items) });
    if (input.customerId) request.customerId = input.customerId;
    if (input.maxOpenOrders !== undefined) request.maxOpenOrders = input.maxOpenOrders;
    const o = await this.engine.submit(PLACE_ORDERS, request);
    if (!o.ok) throw outcomeError(o);
    return toResult(o);
  }
}
