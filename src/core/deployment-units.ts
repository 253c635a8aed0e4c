import type { Kysely } from 'kysely';
import type { ProductCache } from './catalog/product-cache.js';
import type { Database } from './db/schema.js';
import { UnitRunner } from './db/unit-of-work.js';
import type { WakeSignal } from './outbox/wake-signal.js';

export interface DeploymentEffects {
  /** Resolves once every commit so far survives power loss (units asking for durability wait on it). */
  sync: () => Promise<void>;
  /** The product cache to drop changed products from; a function so ops commands open it only when a unit changed stock. */
  cache: () => ProductCache;
  /** In-process workers and relays to wake when a unit wrote outbox messages (none in ops commands). */
  signal?: WakeSignal;
  /** SMTP is configured: notifications written by any unit also write the customer's email. */
  sendsEmail?: boolean;
}

/**
 * The units of work of one deployment with the effects every write has after its commit: changed
 * products dropped from the cache, in-process workers woken for new outbox messages. The API,
 * the workers and the ops commands all build theirs here, so no path can forget one.
 */
export function deploymentUnits(db: Kysely<Database>, effects: DeploymentEffects): UnitRunner {
  const units = new UnitRunner(db, effects.sync, undefined, effects.sendsEmail ?? false);
  units.onCommit(async (work) => {
    if (work.enqueued > 0) effects.signal?.wake();
    // Awaited so that a client told "done" reads fresh stock; a cache that fails is bounded by its TTL.
    if (work.stockChanged.length > 0) await effects.cache().invalidate([...work.stockChanged]);
  });
  return units;
}
