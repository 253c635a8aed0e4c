import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Generated, type Kysely } from 'kysely';

export interface ChargeRequest {
  /** Derived from the order: the same order always charges under the same key. */
  idempotencyKey: string;
  amountCents: number;
}

export interface ChargeResult {
  outcome: 'captured' | 'declined';
  providerRef: string;
}

/**
 * What the pipeline needs from a payment provider. Both calls must be idempotent by key: a retried
 * charge returns the first outcome and never charges again; a repeated refund refunds once.
 */
export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Optional: many charges in one call (the results in the order of the requests), for providers
   * with a batch API. The pipeline uses it when present and falls back to {@link charge} one by
   * one when it fails.
   */
  chargeAll?(requests: readonly ChargeRequest[]): Promise<ChargeResult[]>;
  refund(idempotencyKey: string): Promise<void>;
}

export interface SimulatedGatewayOptions {
  latencyMs: number;
  /** Probability in 0..1 that a new charge is declined. */
  declineRate: number;
  random?: () => number;
}

/** The simulated provider's own books: one row per distinct charge it accepted. */
export interface SimulatedGatewayDatabase {
  simulated_charges: {
    idempotency_key: string;
    amount_cents: number;
    outcome: 'captured' | 'declined';
    refunded: Generated<number>;
    calls: Generated<number>;
    created_at: number;
  };
}

/**
 * A stand-in provider that keeps its books in a database of its own (in embedded mode a second
 * SQLite file beside buildflow's), so its idempotency survives restarts the way a real provider's does. `calls` counts every request it
 * received, which lets tests tell "asked twice" from "charged twice".
 */
export class SimulatedPaymentGateway implements PaymentGateway {
  constructor(
    private readonly db: Kysely<SimulatedGatewayDatabase>,
    private readonly options: SimulatedGatewayOptions,
  ) {}

  /** Creates the provider's table if it is missing (it is not part of buildflow's own schema). */
  async ensureSchema(): Promise<void> {
    await this.db.schema
      .createTable('simulated_charges')
      .ifNotExists()
      .addColumn('idempotency_key', 'varchar(80)', (c) => c.primaryKey())
      .addColumn('amount_cents', 'bigint', (c) => c.notNull())
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addColumn('refunded', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('calls', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  }

  async charge({ idempotencyKey, amountCents }: ChargeRequest): Promise<ChargeResult> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    const outcome = (this.options.random ?? Math.random)() < this.options.declineRate ? 'declined' : 'captured';
    // On a repeated key the upsert leaves the first outcome in place and RETURNING reports it.
    const row = await this.db
      .insertInto('simulated_charges')
      .values({ idempotency_key: idempotencyKey, amount_cents: amountCents, outcome, created_at: Date.now() })
      .onConflict((oc) => oc.column('idempotency_key').doUpdateSet({ calls: sql`simulated_charges.calls + 1` }))
      .returning('outcome')
      .executeTakeFirstOrThrow();
    return { outcome: row.outcome, providerRef: `sim_${idempotencyKey}` };
  }

  /** Every request counts as a call; one upsert for the batch. */
  async chargeAll(requests: readonly ChargeRequest[]): Promise<ChargeResult[]> {
    if (requests.length === 0) return [];
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    const random = this.options.random ?? Math.random;
    const byKey = new Map<string, { amountCents: number; calls: number }>();
    for (const r of requests) {
      const seen = byKey.get(r.idempotencyKey);
      if (seen) seen.calls++;
      else byKey.set(r.idempotencyKey, { amountCents: r.amountCents, calls: 1 });
    }
    const now = Date.now();
    // One row per key (an upsert may not touch a row twice); a key seen before keeps its first outcome.
    const rows = await this.db
      .insertInto('simulated_charges')
      .values(
        [...byKey].map(([key, v]) => ({
          idempotency_key: key,
          amount_cents: v.amountCents,
          outcome: random() < this.options.declineRate ? ('declined' as const) : ('captured' as const),
          calls: v.calls,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.column('idempotency_key').doUpdateSet({ calls: sql`simulated_charges.calls + excluded.calls` }))
      .returning(['idempotency_key', 'outcome'])
      .execute();
    const outcomes = new Map(rows.map((r) => [r.idempotency_key, r.outcome]));
    return requests.map((r) => ({ outcome: outcomes.get(r.idempotencyKey)!, providerRef: `sim_${r.idempotencyKey}` }));
  }

  async refund(idempotencyKey: string): Promise<void> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    await this.db
      .updateTable('simulated_charges')
      .set({ refunded: 1 })
      .where('idempotency_key', '=', idempotencyKey)
      .where('outcome', '=', 'captured')
      .execute();
  }
}

/** The key under which an order is charged: stable across retries and processes. */
export function paymentKey(orderId: string): string {
  return `order:${orderId}:charge`;
}
