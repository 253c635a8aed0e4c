import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { STATS_SCAN_CAP } from './snapshot-types.js';

/** How the pending rows of one topic split at one moment, from a bounded scan. */
export interface TopicSplit {
  delayed: number;
  active: number;
  /** available_at of the oldest due, unleased row; null when none was seen. */
  oldestWaitingSince: number | null;
}

export interface OutboxSplit {
  byTopic: Map<string, TopicSplit>;
  /** True when either scan reached the cap (figures are then lower bounds). */
  capped: boolean;
}

/**
 * Splits pending outbox rows into delayed (due later), active (leased) and the oldest waiting,
 * per topic. Both scans walk the partial index of pending rows (`outbox_due_idx`, by due time)
 * and stop after `cap` rows: the due range from its oldest end (where leased rows are, since
 * workers claim oldest first), and the not-yet-due range.
 */
export async function splitPending(db: Kysely<Database>, now: number, cap = STATS_SCAN_CAP): Promise<OutboxSplit> {
  // One statement for both ranges: a snapshot is a handful of round trips, not a dozen.
  const { rows } = await sql<{ due: number; topic: string; n: number; active: number; oldest: number | null }>`
    select 1 as due, topic, count(*) as n,
           sum(case when locked_until is not null and locked_until >= ${now} then 1 else 0 end) as active,
           min(case when locked_until is null or locked_until < ${now} then available_at end) as oldest
    from (select topic, available_at, locked_until from outbox
          where status = 'pending' and available_at <= ${now}
          order by available_at, id limit ${cap}) d
    group by topic
    union all
    select 0, topic, count(*), 0, null
    from (select topic from outbox
          where status = 'pending' and available_at > ${now}
          order by available_at, id limit ${cap}) l
    group by topic`.execute(db);
  const byTopic = new Map<string, TopicSplit>();
  const entry = (topic: string) => {
    let e = byTopic.get(topic);
    if (!e) byTopic.set(topic, (e = { delayed: 0, active: 0, oldestWaitingSince: null }));
    return e;
  };
  let dueRows = 0;
  let laterRows = 0;
  for (const r of rows) {
    const e = entry(r.topic);
    if (Number(r.due) === 1) {
      e.active = Number(r.active);
      e.oldestWaitingSince = r.oldest === null ? null : Number(r.oldest);
      dueRows += Number(r.n);
    } else {
      e.delayed = Number(r.n);
      laterRows += Number(r.n);
    }
  }
  return { byTopic, capped: dueRows >= cap || laterRows >= cap };
}
