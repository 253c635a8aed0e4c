import { sql, type Kysely } from 'kysely';
import type { Database, Db } from '../db/schema.js';
import { inSet } from '../db/sets.js';
import { isPostgres } from '../db/postgres.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { ORDER_STEPS, type OrderStep, type OutboxMessage } from '../outbox/outbox.js';

/** Steps an operator can pause: the steps of an order's run. */
export const PAUSABLE_STEPS = ORDER_STEPS;

/** A paused step as `pipeline status` shows it. */
export interface StepPause {
  step: OrderStep;
  reason: string | null;
  pausedAt: string;
}

function requireStep(step: string): OrderStep {
  if (!(PAUSABLE_STEPS as readonly string[]).includes(step)) {
    throw new BuildflowError('STEP_UNKNOWN', `unknown step "${step}"; the steps that can be paused are ${PAUSABLE_STEPS.join(', ')}`);
  }
  return step as OrderStep;
}

/**
 * Pauses a step for every process of the deployment (stored in the database, so a restart does not
 * lift it). Orders reaching it wait there; intake and the other steps go on. Pausing a paused step
 * keeps its first time and takes the new reason.
 */
export async function pauseStep(units: UnitRunner, step: string, reason: string | null = null): Promise<StepPause> {
  const s = requireStep(step);
  return units.run(
    async ({ trx, now }) => {
      await trx
        .insertInto('pipeline_pauses')
        .values({ step: s, reason, paused_at: now })
        .onConflict((oc) => oc.column('step').doUpdateSet({ reason }))
        .execute();
      const row = await trx.selectFrom('pipeline_pauses').selectAll().where('step', '=', s).executeTakeFirstOrThrow();
      return toPause(row);
    },
    { durable: true },
  );
}

/**
 * Lifts a pause: the orders waiting at the step are made due at once (workers are woken), so they
 * go on within a poll; lifting a pay pause extends reserved orders' reservations by its length.
 * Returns false when the step was not paused.
 */
export async function resumeStep(units: UnitRunner, step: string): Promise<boolean> {
  const s = requireStep(step);
  return units.run(
    async (uow) => {
      const pause = await uow.trx.selectFrom('pipeline_pauses').select('paused_at').where('step', '=', s).executeTakeFirst();
      if (!pause) return false;
      await uow.trx.deleteFrom('pipeline_pauses').where('step', '=', s).execute();
      if (s === 'pay') {
        // The wait was the shop's doing: reservations get the pause's length back, so the sweeper
        // does not expire, the moment pay resumes, the orders that waited for it.
        const pausedFor = Math.max(0, uow.now - Number(pause.paused_at));
        await uow.trx
          .updateTable('orders')
          .set({ reservation_expires_at: sql<number>`reservation_expires_at + ${pausedFor}` })
          .where('status', '=', 'reserved')
          .where('reservation_expires_at', 'is not', null)
          .execute();
      }
      await uow.trx
        .updateTable('outbox')
        .set({ available_at: uow.now })
        .where('status', '=', 'pending')
        .where('topic', '=', s)
        .where('available_at', '>', uow.now)
        .execute();
      uow.noteWorkDue();
      return true;
    },
    { durable: true },
  );
}

/** The paused steps, oldest pause first. */
export async function listPauses(db: Db): Promise<StepPause[]> {
  const rows = await db.selectFrom('pipeline_pauses').selectAll().orderBy('paused_at').execute();
  return rows.map(toPause);
}

function toPause(row: { step: string; reason: string | null; paused_at: number }): StepPause {
  return { step: row.step as OrderStep, reason: row.reason, pausedAt: new Date(Number(row.paused_at)).toISOString() };
}

/**
 * The paused steps as a worker sees them: read from the database at most once per `maxAgeMs`, so
 * every process obeys a pause or a resume within that bound plus one batch, at one small read per
 * interval rather than per batch.
 */
export class PauseReader {
  private cached: { at: number; steps: ReadonlySet<string> } | undefined;
  private reading: Promise<ReadonlySet<string>> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxAgeMs: number,
  ) {}

  async paused(now = Date.now()): Promise<ReadonlySet<string>> {
    if (this.cached && now - this.cached.at < this.maxAgeMs) return this.cached.steps;
    this.reading ??= this.db
      .selectFrom('pipeline_pauses')
      .select('step')
      .execute()
      .then((rows) => {
        const steps = new Set(rows.map((r) => r.step));
        this.cached = { at: now, steps };
        return steps;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}

/**
 * Puts messages back, unleased, due again after `holdMs`: those that reached a paused step (resume
 * makes them due at once), or those the pay rate limit refused. The claim's attempt is given back:
 * waiting is not a failure, and the worker's mark stays so that the release is not counted as a
 * failed run. With `whilePaused`, nothing is held unless that step is still paused when the hold is
 * written (one statement; on Postgres it waits for a resume in flight), and false is returned: a
 * worker whose view of the pauses is up to a second old must not hold, for the whole hold, orders
 * a resume has just released.
 */
export async function holdAtPause(db: Db, msgs: readonly OutboxMessage[], holdMs: number, now: number, whilePaused?: string): Promise<boolean> {
  if (msgs.length === 0) return true;
  // Attempts as the runner counts them (an order moved on within its run starts a step at 1), one statement for all.
  const attempts = sql<number>`case id ${sql.join(msgs.map((m) => sql`when ${sql.lit(m.id)} then ${sql.lit(Math.max(0, m.attempts - 1))}`), sql` `)} end`;
  let update = db
    .updateTable('outbox')
    .set({ topic: msgs[0]!.topic, attempts, available_at: now + holdMs, locked_until: null, published_at: null })
    .where(inSet(db, 'id', msgs.map((m) => m.id)))
    .where('status', '=', 'pending');
  if (whilePaused !== undefined) {
    const pause = db.selectFrom('pipeline_pauses').select('step').where('step', '=', whilePaused);
    update = update.where((eb) => eb.exists(isPostgres(db) ? pause.forShare() : pause));
  }
  const res = await update.executeTakeFirst();
  return whilePaused === undefined || Number(res.numUpdatedRows) > 0;
}
