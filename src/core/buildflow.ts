import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import { migrateToLatest } from './db/migrate.js';
import { openStorage } from './db/open-storage.js';
import { cancelOrder } from './orders/cancel-order.js';
import { ADMIN_CANCELLABLE, customerCancellable } from './domain/order-status.js';
import { OrderIntake, type PlaceOrderInput, type PlaceOrderResult } from './orders/intake.js';
import type { OrderView } from './orders/order-view.js';
import { WakeSignal } from './outbox/wake-signal.js';
import { BuildflowEvents, type OrderFinalNote, type SettlingMessage } from './observe/events.js';
import { describeOrderFinals, orderFinalsOf } from './observe/order-finals.js';
import type { Topic } from './outbox/outbox.js';
import type { UnitMessage, UnitRunner } from './db/unit-of-work.js';
import { deploymentUnits } from './deployment-units.js';
import { SimulatedPaymentGateway, type PaymentGateway } from './pipeline/payment-gateway.js';
import { openProductCache, type ProductCache } from './catalog/product-cache.js';
import { adjustStock, getProduct, upsertProduct, type ProductInput, type ProductView, type StockAdjustment } from './catalog/products.js';

/**
 * One opened deployment: the database, the payment gateway and the in-process wake signal, plus
 * the use cases that must wake workers after they commit. Server, workers and CLI all start here.
 */
export interface Buildflow {
  config: Config;
  db: Kysely<Database>;
  gateway: PaymentGateway;
  signal: WakeSignal;
  /**
   * Every write use case runs through these units of work. Their after-commit hooks (cached stock
   * dropped, workers and relays woken) are registered here; later features add theirs with
   * `units.onCommit(hook)`.
   */
  units: UnitRunner;
  /** Product reads for display; Redis when BUILDFLOW_REDIS_URL is set, else none. */
  cache: ProductCache;
  /** What committed in this process (orders placed and settled, step outcomes), for metrics and logs. */
  events: BuildflowEvents;
  /**
   * Reports committed final states to {@link events}, with each order's reference, total and
   * placement time read in one query. Resolves when reported; never rejects.
   */
  reportOrderFinals(notes: readonly OrderFinalNote[], messageOf?: (orderId: string) => SettlingMessage | undefined): Promise<void>;
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult>;
  /** One product, from the cache when it holds it. */
  getProduct(sku: string): Promise<ProductView>;
  /** Creates or updates a product (its cached read is dropped after commit). */
  saveProduct(input: ProductInput): Promise<{ product: ProductView; created: boolean }>;
  /** Changes stock with a ledger row (the cached read is dropped after commit). */
  adjustStock(sku: string, adjustment: StockAdjustment): Promise<ProductView>;
  /**
   * Cancels an order: by default as its customer (until `BUILDFLOW_CUSTOMER_CANCEL_UNTIL`), or as
   * the admin (any order that has not shipped). @throws BuildflowError ORDER_NOT_CANCELLABLE
   */
  cancelOrder(idOrReference: string, by?: 'customer' | 'admin'): Promise<OrderView>;
  /**
   * Resolves once every transaction committed so far survives power loss. Call it before
   * acknowledging a write to a client; placeOrder and cancelOrder already do.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations on open (serve, worker and migrate do; read-only tools need not). */
  migrate?: boolean;
  /** Replace the simulated payment provider. */
  gateway?: PaymentGateway;
}

// The SQLite commit thread's entry, beside this module in every form the code runs in: compiled
// (dist/src/core/), bundled (dist/cli/, see rollup.config.js) and as source under the test runner,
// whose loader (test/helpers/ts-threads.mjs) lets the thread run the .ts file.
const COMMIT_THREAD = new URL(import.meta.url.endsWith('.ts') ? './commit-thread.ts' : './commit-thread.js', import.meta.url);

/** Opens the embedded deployment described by `config`. */
export async function openBuildflow(config: Config, options: OpenOptions = {}): Promise<Buildflow> {
  const storage = openStorage(config, { commitThread: COMMIT_THREAD });
  const { db, sync } = storage;
  try {
    if (options.migrate) await migrateToLatest(db);
    let gateway = options.gateway;
    if (!gateway) {
      const simulated = new SimulatedPaymentGateway(storage.gatewayDb, config.payment);
      await simulated.ensureSchema();
      gateway = simulated;
    }
    const signal = new WakeSignal();
    const events = new BuildflowEvents();
    const cache = openProductCache(config, (up, reason) => events.cacheAvailability(up, reason));
    const reportOrderFinals: Buildflow['reportOrderFinals'] = async (notes, messageOf) => {
      if (notes.length === 0 || !events.wantsFinalOrders()) return;
      events.ordersFinal(await describeOrderFinals(db, notes, messageOf));
    };
    const units = deploymentUnits(db, { sync, cache: () => cache, signal, sendsEmail: config.mail !== undefined });
    // Settled orders are reported from every committed unit (pipeline, sweeper, customer cancel,
    // dead-letter compensation): a rolled-back unit runs no hook, so nothing is counted on attempt.
    units.onCommit((work) => {
      const notes = orderFinalsOf(work.transitions, work.now);
      if (notes.length === 0) return;
      // The message that settled an order is its own step's, never a notify the same unit ran for it.
      const byOrder = new Map<string, UnitMessage>();
      for (const m of work.messages) if (!byOrder.has(m.orderId) || byOrder.get(m.orderId)!.topic === 'notify') byOrder.set(m.orderId, m);
      void reportOrderFinals(notes, (orderId) => {
        const m = byOrder.get(orderId);
        return m ? { messageId: m.messageId, topic: m.topic as Topic, attempt: m.attempt } : undefined;
      });
    });
    // New orders are counted from every committed unit that created one (replays create none).
    units.onCommit((work) => {
      let placed = 0;
      for (const t of work.transitions) if (t.from === null) placed++;
      if (placed > 0) events.ordersPlaced(placed);
    });
    const commits = storage.commits(units);
    const intake = new OrderIntake(commits, config.maxItemsPerOrder);
    return {
      config,
      db,
      gateway,
      signal,
      units,
      cache,
      events,
      reportOrderFinals,
      // The method itself, so a route's call lands in intake with no stop here.
      placeOrder: intake.place.bind(intake),
      getProduct: (sku) => getProduct(db, sku, cache),
      saveProduct: (input) => upsertProduct(units, input),
      adjustStock: (sku, adjustment) => adjustStock(units, sku, adjustment),
      cancelOrder: (idOrReference, by = 'customer') =>
        cancelOrder(units, idOrReference, by === 'admin' ? ADMIN_CANCELLABLE : customerCancellable(config.customerCancelUntil)),
      sync,
      async close() {
        await commits.close();
        await cache.close();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}
