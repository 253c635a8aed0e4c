import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import { migrateToLatest } from './db/migrate.js';
import { openStorage } from './db/open-storage.js';
import { cancelOrder } from './orders/cancel-order.js';
import { OrderIntake, type PlaceOrderInput, type PlaceOrderResult } from './orders/intake.js';
import type { OrderView } from './orders/order-view.js';
import { WakeSignal } from './outbox/wake-signal.js';
import { SimulatedPaymentGateway, type PaymentGateway } from './pipeline/payment-gateway.js';

/**
 * One opened deployment: the database, the payment gateway and the in-process wake signal, plus
 * the use cases that must wake workers after they commit. Server, workers and CLI all start here.
 */
export interface Buildflow {
  config: Config;
  db: Kysely<Database>;
  gateway: PaymentGateway;
  signal: WakeSignal;
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult>;
  cancelOrder(idOrReference: string): Promise<OrderView>;
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

/** Opens the embedded deployment described by `config`. */
export async function openBuildflow(config: Config, options: OpenOptions = {}): Promise<Buildflow> {
  const storage = openStorage(config);
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
    const intake = new OrderIntake({ db, durable: sync, maxItemsPerOrder: config.maxItemsPerOrder, onCommitted: () => signal.wake() });
    return {
      config,
      db,
      gateway,
      signal,
      placeOrder: (input) => intake.place(input),
      async cancelOrder(idOrReference) {
        const order = await cancelOrder(db, idOrReference);
        signal.wake();
        await sync();
        return order;
      },
      sync,
      async close() {
        await intake.close();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}
