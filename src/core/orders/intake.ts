import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RequestedItem } from '../domain/pricing.js';
import type { OrderView } from './order-view.js';
import type { IntakeWriter } from './intake-writer.js';
import { orderRequestHash } from './request-hash.js';
import { validateItems } from './validate-items.js';
import { commitOrderBatch, MAX_ORDER_BATCH, outcomeError, type OrderOutcome, type OrderRequest } from './write-order-batch.js';

export { ORDER_IDEMPOTENCY_SCOPE } from './write-order-batch.js';

type IntakeWriterPort = Pick<IntakeWriter, 'place'>;

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

interface Pending {
  request: OrderRequest;
  resolve(result: PlaceOrderResult): void;
  reject(err: unknown): void;
}

export interface IntakeOptions {
  maxItemsPerOrder: number;
  db: Kysely<Database>;
  /** Resolves once everything committed so far survives power loss (the WAL fsync). */
  durable: () => Promise<void>;
  clock?: () => number;
  /** Called once new orders are durably committed, with how many (replays are not new): wakes in-process workers, counts them. */
  onCommitted?: (placed: number) => void;
  /** Most orders per transaction (default 256); 1 turns group commit off. */
  maxBatch?: number;
  /**
   * Commits orders elsewhere (the embedded writer thread), in batches it cuts and makes durable
   * itself; `db`, `durable`, `clock` and `maxBatch` then serve no order.
   */
  writer?: IntakeWriterPort;
}

/**
 * Order intake with group commit. Every order is committed, with its history row, its outbox
 * message and its idempotency record, and made durable before its promise resolves; orders that
 * arrive while a batch is being committed form the next batch, so one transaction and one sync
 * serve many requests.
 */
export class OrderIntake {
  private queue: Pending[] = [];
  private running = false;
  // A count is all close() needs; a Set taking and dropping an entry per order would churn hash
  // tables the way SequentialSlots describes for a Map.
  private inFlight = 0;

  constructor(private readonly options: IntakeOptions) {}

  /** Places an order; resolves once it is durably committed. */
  place(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    try {
      validateItems(input.items, this.options.maxItemsPerOrder);
    } catch (err) {
      return Promise.reject(err);
    }
    const request: OrderRequest = { items: input.items };
    // The fingerprint only serves to compare a replay with the request that made the key.
    if (input.idempotencyKey) Object.assign(request, { idempotencyKey: input.idempotencyKey, hash: orderRequestHash(input.items) });
    if (input.customerId) request.customerId = input.customerId;
    if (input.maxOpenOrders !== undefined) request.maxOpenOrders = input.maxOpenOrders;
    if (this.options.writer) return this.placeThroughWriter(this.options.writer, request);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the requests already read from sockets in this turn of the loop join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Waits until every accepted order has been answered. */
  async close(): Promise<void> {
    // Polled: closing is rare and an fsync away from done.
    while (this.running || this.inFlight > 0) await new Promise((r) => setTimeout(r, 1));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.options.maxBatch ?? MAX_ORDER_BATCH));
    } finally {
      this.running = false;
    }
  }

  /** Through the writer thread, which batches and commits durably itself. */
  private placeThroughWriter(writer: IntakeWriterPort, request: OrderRequest): Promise<PlaceOrderResult> {
    this.inFlight++;
    return writer.place(request).then(
      (o) => {
        this.inFlight--;
        if (!o.ok) throw outcomeError(o);
        if (!o.replayed) this.options.onCommitted?.(1);
        return toResult(o);
      },
      (err: unknown) => {
        this.inFlight--;
        throw err;
      },
    );
  }

  private answer(batch: Pending[], outcomes: OrderOutcome[]): void {
    let placed = 0;
    for (const o of outcomes) if (o.ok && !o.replayed) placed++;
    if (placed > 0) this.options.onCommitted?.(placed);
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(toResult(o)) : batch[i]!.reject(outcomeError(o))));
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcomes: OrderOutcome[];
    try {
      outcomes = await commitOrderBatch(this.options.db, batch.map((p) => p.request), (this.options.clock ?? Date.now)());
    } catch (err) {
      batch.forEach((p) => p.reject(err));
      return;
    }
    // Not awaited: the next batch is written while this one's fsync runs on the thread pool.
    this.inFlight++;
    void this.options.durable().then(
      () => {
        this.inFlight--;
        this.answer(batch, outcomes);
      },
      (err: unknown) => {
        this.inFlight--;
        batch.forEach((p) => p.reject(err));
      },
    );
  }
}
