import { CompiledQuery, sql } from 'kysely';
import { isPostgres } from '../db/postgres.js';
import { orderReference } from '../ids.js';
import type { Db } from '../outbox/outbox.js';

/** Numbers below this have the 8 digits every random code made before numbering had. */
const EIGHT_DIGITS = 32 ** 8;

// Written out as SQL: the intake writer runs these for every batch, and building them through the
// query builder cost as much as SQLite running them.
const advanceCounter = (count: number) =>
  CompiledQuery.raw("update counters set value = value + ? where name = 'order_reference' returning value", [count]);
const referencesBetween = (first: string, last: string) =>
  CompiledQuery.raw('select reference from orders where reference >= ? and reference <= ?', [first, last]);

async function drawNumbers(trx: Db, count: number): Promise<number[]> {
  if (isPostgres(trx)) {
    const { rows } = await sql<{ n: string }>`select nextval('order_reference_seq') as n from generate_series(1, ${count})`.execute(trx);
    return rows.map((r) => Number(r.n));
  }
  // Writers on SQLite hold the write lock for the whole transaction, so the range is ours alone.
  const { rows } = await trx.executeQuery<{ value: number }>(advanceCounter(count));
  if (rows.length !== 1) throw new Error('the order_reference counter is missing (migration 0004 not applied?)');
  const last = Number(rows[0]!.value);
  return Array.from({ length: count }, (_, i) => last - count + 1 + i);
}

/** The drawn references some older order already holds as its random code. */
async function alreadyHeld(trx: Db, numbers: readonly number[], drawn: readonly string[]): Promise<Set<string>> {
  if (isPostgres(trx)) {
    const taken = await trx.selectFrom('orders').select('reference').where('reference', 'in', drawn).execute();
    return new Set(taken.map((r) => r.reference));
  }
  // SQLite draws consecutive numbers, and same-length Crockford digits sort as their numbers do
  // under SQLite's binary collation, so one range probe of the unique index covers the batch.
  // Numbers of 9 digits or more cannot match a random code.
  const eight = numbers.flatMap((n, i) => (n < EIGHT_DIGITS ? [drawn[i]!] : []));
  if (eight.length === 0) return new Set();
  const { rows } = await trx.executeQuery<{ reference: string }>(referencesBetween(eight[0]!, eight[eight.length - 1]!));
  return new Set(rows.map((r) => r.reference));
}

/**
 * `count` order references not yet in use, drawn in the caller's transaction. A reference an
 * order made before references were numbered (a random code) already holds is passed over, so an
 * old order can never block the counter.
 */
export async function takeOrderReferences(trx: Db, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const numbers = await drawNumbers(trx, count - out.length);
    const drawn = numbers.map(orderReference);
    const used = await alreadyHeld(trx, numbers, drawn);
    out.push(...drawn.filter((r) => !used.has(r)));
  }
  return out;
}
