import { sql } from 'kysely';
import { isPostgres } from '../db/postgres.js';
import { orderReference } from '../ids.js';
import type { Db } from '../outbox/outbox.js';

async function drawNumbers(trx: Db, count: number): Promise<number[]> {
  if (isPostgres(trx)) {
    const { rows } = await sql<{ n: string }>`select nextval('order_reference_seq') as n from generate_series(1, ${count})`.execute(trx);
    return rows.map((r) => Number(r.n));
  }
  // Writers on SQLite hold the write lock for the whole transaction, so the range is ours alone.
  const row = await trx
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', count) }))
    .where('name', '=', 'order_reference')
    .returning('value')
    .executeTakeFirstOrThrow();
  const last = Number(row.value);
  return Array.from({ length: count }, (_, i) => last - count + 1 + i);
}

/**
 * `count` order references not yet in use, drawn in the caller's transaction. A reference an
 * order made before references were numbered (a random code) already holds is passed over, so an
 * old order can never block the counter.
 */
export async function takeOrderReferences(trx: Db, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const drawn = (await drawNumbers(trx, count - out.length)).map(orderReference);
    const taken = await trx.selectFrom('orders').select('reference').where('reference', 'in', drawn).execute();
    const used = new Set(taken.map((r) => r.reference));
    out.push(...drawn.filter((r) => !used.has(r)));
  }
  return out;
}
