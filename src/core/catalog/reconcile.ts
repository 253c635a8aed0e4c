import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface StockDrift {
  sku: string;
  onHand: number;
  reserved: number;
  ledgerOnHand: number;
  ledgerReserved: number;
}

/**
 * Products whose counters disagree with the sum of their ledger rows. Empty means stock and
 * ledger reconcile (DESIGN.md promise 2).
 */
export async function findStockDrift(db: Kysely<Database>): Promise<StockDrift[]> {
  const rows = await db
    .selectFrom('products as p')
    .leftJoin(
      db
        .selectFrom('stock_movements')
        .select(['sku', sql<number>`sum(on_hand_delta)`.as('on_hand_sum'), sql<number>`sum(reserved_delta)`.as('reserved_sum')])
        .groupBy('sku')
        .as('m'),
      'm.sku',
      'p.sku',
    )
    .select(['p.sku', 'p.on_hand', 'p.reserved', 'm.on_hand_sum', 'm.reserved_sum'])
    .execute();
  return rows
    .map((r) => ({
      sku: r.sku,
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
      ledgerOnHand: Number(r.on_hand_sum ?? 0),
      ledgerReserved: Number(r.reserved_sum ?? 0),
    }))
    .filter((r) => r.onHand !== r.ledgerOnHand || r.reserved !== r.ledgerReserved);
}
