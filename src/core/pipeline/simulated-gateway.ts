import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction, type UpdateObject } from 'kysely';
import { rowSet } from '../db/sets.js';
import type { Db } from '../db/schema.js';
import type { ChargeState, OperationKind, SimulatedGatewayDatabase } from '../db/simulated-gateway-schema.js';
import type { AuthorizeRequest, AuthorizeResult, MoneyRequest, MoneyResult, PaymentGateway } from './payment-gateway.js';

export interface SimulatedGatewayOptions {
  latencyMs: number;
  /** Probability in 0..1 that a new authorization is declined. */
  declineRate: number;
  /** Probability in 0..1 that a call fails before the provider acts (nothing moved). */
  failureRate?: number;
  /** Probability in 0..1 that a call acts and then times out (money moved, the caller never hears). */
  timeoutRate?: number;
  /** Time between acting and answering: the money has moved while the answer is on its way. */
  answerDelayMs?: number;
  random?: () => number;
}

/** Thrown by the simulated provider when told to fail (`BUILDFLOW_PAYMENT_FAILURE_RATE`, `…_TIMEOUT_RATE`). */
export class SimulatedProviderError extends Error {}

const REF_PREFIX = 'sim_';

/** The authorization's key from its provider reference. */
const chargeKeyOf = (authorizationRef: string) => (authorizationRef.startsWith(REF_PREFIX) ? authorizationRef.slice(REF_PREFIX.length) : authorizationRef);

/** A column: not null, and either the primary key or with a default when one is given. */
type Column = readonly [name: string, type: 'varchar(16)' | 'varchar(80)' | 'varchar(120)' | 'bigint' | 'integer', keyOrDefault?: 'key' | number];

/** What both books record of a call: its amount and outcome, then how often it was asked and when first. */
const AMOUNT_AND_OUTCOME: readonly Column[] = [['amount_cents', 'bigint'], ['outcome', 'varchar(16)']];
const CALLS_AND_TIME: readonly Column[] = [['calls', 'integer', 1], ['created_at', 'bigint']];

async function createTableIfMissing(db: Kysely<SimulatedGatewayDatabase>, table: keyof SimulatedGatewayDatabase, columns: readonly Column[]): Promise<void> {
  let create = db.schema.createTable(table).ifNotExists();
  for (const [name, type, keyOrDefault] of columns) {
    create = create.addColumn(name, type, (c) => (keyOrDefault === 'key' ? c.primaryKey() : keyOrDefault === undefined ? c.notNull() : c.notNull().defaultTo(keyOrDefault)));
  }
  await create.execute();
}

/**
 * A stand-in provider that keeps its books in a database of its own (in embedded mode a second
 * SQLite file beside buildflow's), so its idempotency survives restarts the way a real provider's
 * does. Every key is honoured: a repeated authorize returns the first outcome, a repeated capture,
 * void or refund the first answer, and only the first moves money. `calls` counts every request it
 * received, which lets tests tell "asked twice" from "charged twice". It refuses to capture or void
 * more than is left of the authorization, or to refund more than was captured.
 */
export class SimulatedPaymentGateway implements PaymentGateway {
  constructor(
    private readonly db: Kysely<SimulatedGatewayDatabase>,
    private readonly options: SimulatedGatewayOptions,
  ) {}

  /** Creates the provider's tables if they are missing (they are not part of buildflow's own schema). */
  async ensureSchema(): Promise<void> {
    await createTableIfMissing(this.db, 'simulated_charges', [
      ['idempotency_key', 'varchar(80)', 'key'],
      ...AMOUNT_AND_OUTCOME,
      ['refunded', 'integer', 0],
      ...CALLS_AND_TIME,
    ]);
    // Books kept before captures were separate calls lack these columns; there a `captured` charge
    // was taken in full when authorized, and `refunded` = 1 gave all of it back.
    let added = false;
    for (const column of ['captured_cents', 'refunded_cents', 'voided_cents']) {
      try {
        await this.db.schema.alterTable('simulated_charges').addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        added = true;
      } catch {
        // already there
      }
    }
    if (added) {
      await this.db
        .updateTable('simulated_charges')
        .set({ captured_cents: sql`amount_cents`, refunded_cents: sql`case when refunded = 1 then amount_cents else 0 end` })
        .where('outcome', '=', 'captured')
        .execute();
    }
    await createTableIfMissing(this.db, 'simulated_operations', [
      ['idempotency_key', 'varchar(120)', 'key'],
      ['charge_key', 'varchar(80)'],
      ['kind', 'varchar(16)'],
      ...AMOUNT_AND_OUTCOME,
      ...CALLS_AND_TIME,
    ]);
  }

  /** The provider's side of one authorization: its row and the captures, voids and refunds against it (for audits and tests). */
  async books(authorizationKey: string): Promise<{
    charge: Selectable<SimulatedGatewayDatabase['simulated_charges']> | undefined;
    operations: Selectable<SimulatedGatewayDatabase['simulated_operations']>[];
  }> {
    const charge = await this.db.selectFrom('simulated_charges').selectAll().where('idempotency_key', '=', authorizationKey).executeTakeFirst();
    const operations = await this.db.selectFrom('simulated_operations').selectAll().where('charge_key', '=', authorizationKey).orderBy('created_at').orderBy('idempotency_key').execute();
    const n = (v: unknown) => Number(v);
    return {
      charge: charge && { ...charge, amount_cents: n(charge.amount_cents), refunded: n(charge.refunded), captured_cents: n(charge.captured_cents), refunded_cents: n(charge.refunded_cents), voided_cents: n(charge.voided_cents), calls: n(charge.calls), created_at: n(charge.created_at) },
      operations: operations.map((o) => ({ ...o, amount_cents: n(o.amount_cents), calls: n(o.calls), created_at: n(o.created_at) })),
    };
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  /** Latency, then maybe a failure before acting; returns whether the call should time out after acting. */
  private async arrive(): Promise<boolean> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    if (this.random() < (this.options.failureRate ?? 0)) throw new SimulatedProviderError('payment provider unavailable (simulated)');
    return this.random() < (this.options.timeoutRate ?? 0);
  }

  /** After acting: the answer's own latency, then the time-out `arrive` drew, if any. */
  private async answer(timeOut: boolean): Promise<void> {
    if ((this.options.answerDelayMs ?? 0) > 0) await sleep(this.options.answerDelayMs!);
    if (timeOut) throw new SimulatedProviderError('payment provider timed out after acting (simulated)');
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    return (await this.authorizeAll([request]))[0]!;
  }

  /** Every request counts as a call; one upsert for the batch. */
  async authorizeAll(requests: readonly AuthorizeRequest[]): Promise<AuthorizeResult[]> {
    if (requests.length === 0) return [];
    const timeOut = await this.arrive();
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
          outcome: this.random() < this.options.declineRate ? ('declined' as const) : ('authorized' as const),
          calls: v.calls,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.column('idempotency_key').doUpdateSet({ calls: sql`simulated_charges.calls + excluded.calls` }))
      .returning(['idempotency_key', 'outcome'])
      .execute();
    await this.answer(timeOut);
    const outcomes = new Map(rows.map((r) => [r.idempotency_key, r.outcome === 'declined' ? ('declined' as const) : ('authorized' as const)]));
    return requests.map((r) => ({ outcome: outcomes.get(r.idempotencyKey)!, providerRef: REF_PREFIX + r.idempotencyKey }));
  }

  capture(request: MoneyRequest): Promise<MoneyResult> {
    return this.operate('capture', request, (a) => ({
      set: { captured_cents: sql`captured_cents + ${a}`, outcome: 'captured' },
      from: ['authorized', 'captured'],
      fits: sql<boolean>`captured_cents + voided_cents + ${a} <= amount_cents`,
    }));
  }

  /**
   * Captures for many authorizations in one transaction of a fixed number of statements: every
   * request counts as a call, a key seen before answers its first outcome, and each new capture
   * moves its authorization's books by the same conditional update as {@link capture}. Two new
   * captures of one authorization in a batch go one by one (one update may not move a row twice).
   */
  async captureAll(requests: readonly MoneyRequest[]): Promise<MoneyResult[]> {
    if (requests.length === 0) return [];
    const chargeKeys = requests.map((r) => chargeKeyOf(r.authorizationRef));
    if (new Set(chargeKeys).size < requests.length) {
      const out: MoneyResult[] = [];
      for (const r of requests) out.push(await this.capture(r));
      return out;
    }
    const timeOut = await this.arrive();
    const now = Date.now();
    const outcomes = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('simulated_operations')
        .values(requests.map((r, i) => ({ idempotency_key: r.idempotencyKey, charge_key: chargeKeys[i]!, kind: 'capture' as const, amount_cents: r.amountCents, outcome: 'failed' as const, created_at: now })))
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('idempotency_key')
        .execute();
      const fresh = new Set(inserted.map((r) => r.idempotency_key));
      const seen = requests.filter((r) => !fresh.has(r.idempotencyKey)).map((r) => r.idempotencyKey);
      const answers = new Map<string, 'succeeded' | 'failed'>();
      if (seen.length > 0) {
        const first = await trx.updateTable('simulated_operations').set({ calls: sql`calls + 1` }).where('idempotency_key', 'in', seen).returning(['idempotency_key', 'outcome']).execute();
        for (const r of first) answers.set(r.idempotency_key, r.outcome);
      }
      const toMove = requests.filter((r) => fresh.has(r.idempotencyKey) && r.amountCents > 0);
      if (toMove.length > 0) {
        const v = rowSet(trx as unknown as Db, 'v', [
          { name: 'charge_key', type: 'text', values: toMove.map((r) => chargeKeyOf(r.authorizationRef)) },
          { name: 'amount', type: 'bigint', values: toMove.map((r) => r.amountCents) },
        ]);
        const movedRows = await sql<{ idempotency_key: string }>`update simulated_charges set captured_cents = captured_cents + v.amount, outcome = 'captured' from ${v}
          where simulated_charges.idempotency_key = v.charge_key and simulated_charges.outcome in ('authorized', 'captured')
            and simulated_charges.captured_cents + simulated_charges.voided_cents + v.amount <= simulated_charges.amount_cents
          returning simulated_charges.idempotency_key`.execute(trx);
        const movedCharges = new Set(movedRows.rows.map((r) => r.idempotency_key));
        const succeeded = toMove.filter((r) => movedCharges.has(chargeKeyOf(r.authorizationRef))).map((r) => r.idempotencyKey);
        if (succeeded.length > 0) await trx.updateTable('simulated_operations').set({ outcome: 'succeeded' }).where('idempotency_key', 'in', succeeded).execute();
        for (const key of succeeded) answers.set(key, 'succeeded');
      }
      return requests.map((r) => answers.get(r.idempotencyKey) ?? ('failed' as const));
    });
    await this.answer(timeOut);
    return requests.map((r, i) => ({ outcome: outcomes[i]!, providerRef: `${REF_PREFIX}capture_${r.idempotencyKey}` }));
  }

  void(request: MoneyRequest): Promise<MoneyResult> {
    return this.operate('void', request, (a) => ({
      set: { voided_cents: sql`voided_cents + ${a}`, outcome: sql`case when captured_cents = 0 then 'voided' else outcome end` },
      from: ['authorized', 'captured'],
      fits: sql<boolean>`captured_cents + voided_cents + ${a} <= amount_cents`,
    }));
  }

  refund(request: MoneyRequest): Promise<MoneyResult> {
    return this.operate('refund', request, (a) => ({
      set: { refunded_cents: sql`refunded_cents + ${a}`, refunded: sql`case when refunded_cents + ${a} >= captured_cents then 1 else 0 end` },
      from: ['captured'],
      fits: sql<boolean>`refunded_cents + ${a} <= captured_cents`,
    }));
  }

  /**
   * The operation's row is inserted first, so a concurrent call under the same key waits for this
   * one and then reads its answer; the books move by a conditional update, never read-then-write.
   */
  private async operate(
    kind: OperationKind,
    { idempotencyKey, authorizationRef, amountCents }: MoneyRequest,
    move: (amount: number) => ChargeMove,
  ): Promise<MoneyResult> {
    const timeOut = await this.arrive();
    const chargeKey = chargeKeyOf(authorizationRef);
    const outcome = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('simulated_operations')
        .values({ idempotency_key: idempotencyKey, charge_key: chargeKey, kind, amount_cents: amountCents, outcome: 'failed', created_at: Date.now() })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('idempotency_key')
        .executeTakeFirst();
      if (!inserted) {
        const first = await trx
          .updateTable('simulated_operations')
          .set({ calls: sql`calls + 1` })
          .where('idempotency_key', '=', idempotencyKey)
          .returning('outcome')
          .executeTakeFirstOrThrow();
        return first.outcome;
      }
      const moved = amountCents > 0 && (await moveCharge(trx, chargeKey, move(amountCents))) === 1;
      if (!moved) return 'failed' as const;
      await trx.updateTable('simulated_operations').set({ outcome: 'succeeded' }).where('idempotency_key', '=', idempotencyKey).execute();
      return 'succeeded' as const;
    });
    await this.answer(timeOut);
    return { outcome, providerRef: `${REF_PREFIX}${kind}_${idempotencyKey}` };
  }
}

/** How an operation moves a charge: the change, the states it may start from, and the sum that must still fit. */
interface ChargeMove {
  set: UpdateObject<SimulatedGatewayDatabase, 'simulated_charges'>;
  from: readonly ChargeState[];
  fits: RawBuilder<boolean>;
}

/** The conditional update of a charge's books; 1 when it moved, 0 when the charge refused it. */
async function moveCharge(trx: Transaction<SimulatedGatewayDatabase>, chargeKey: string, m: ChargeMove): Promise<number> {
  const res = await trx.updateTable('simulated_charges').set(m.set).where('idempotency_key', '=', chargeKey).where('outcome', 'in', m.from).where(m.fits).executeTakeFirst();
  return Number(res.numUpdatedRows);
}
