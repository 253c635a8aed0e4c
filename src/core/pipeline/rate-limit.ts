import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * A token bucket in the database, shared by every worker process of a deployment: `take(n)` grants
 * up to `n` tokens with one conditional UPDATE (refill by elapsed time, capped at one second's
 * worth, then take), so however many workers charge, together they start at most about `ratePerS`
 * calls a second, plus one second's burst. Counted in milli-tokens so both dialects do integer sums.
 */
export class RateLimit {
  private ensured = false;

  constructor(
    private readonly db: Kysely<Database>,
    readonly name: string,
    readonly ratePerS: number,
  ) {}

  /** Tokens granted now, 0..n. */
  async take(n: number, now = Date.now()): Promise<number> {
    if (n <= 0) return 0;
    if (!this.ensured) {
      await this.db
        .insertInto('rate_limits')
        .values({ name: this.name, milli_tokens: this.ratePerS * 1000, updated_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      this.ensured = true;
    }
    const cap = this.ratePerS * 1000;
    // Refilled tokens, capped; a clock behind the row's (another host's) refills nothing.
    const refilled = sql<number>`(case when milli_tokens + (case when ${now} > updated_at then ${now} - updated_at else 0 end) * ${this.ratePerS} > ${cap}
      then ${cap} else milli_tokens + (case when ${now} > updated_at then ${now} - updated_at else 0 end) * ${this.ratePerS} end)`;
    const granted = sql<number>`(case when ${refilled} / 1000 < ${n} then ${refilled} / 1000 else ${n} end)`;
    const row = await this.db
      .updateTable('rate_limits')
      .set({
        milli_tokens: sql`${refilled} - ${granted} * 1000`,
        updated_at: sql`case when ${now} > updated_at then ${now} else updated_at end`,
        last_granted: granted,
      })
      .where('name', '=', this.name)
      .returning('last_granted')
      .executeTakeFirst();
    return Number(row?.last_granted ?? 0);
  }

  /** How long to hold `waiting` messages the bucket refused: about when their turn comes, at most a second. */
  holdMs(waiting: number): number {
    return Math.min(1000, Math.max(20, Math.ceil((waiting * 1000) / this.ratePerS)));
  }
}
