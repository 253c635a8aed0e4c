import { sql, type SelectQueryBuilder } from 'kysely';
import { decodeCursor, encodeCursor, pageLimit, toPage, type Page } from './pagination.js';

// Kept apart from pagination.ts: the CLI loads that file for its page limits, and must not load kysely.

/** The column a list is ordered and paged by: unique, so the last row of a page says where the next one starts. */
export interface PageKey<Row, K extends 'number' | 'string'> {
  column: string;
  type: K;
  order: 'asc' | 'desc';
  of: (row: Row) => K extends 'number' ? number : string;
}

/**
 * One page of `query` ordered by a unique key: at most `limit` rows past the cursor's key (keyset
 * paging, so a deep page costs what the first does), and the cursor of the next page.
 */
export async function pageByKey<Row, K extends 'number' | 'string', T>(
  query: SelectQueryBuilder<any, any, Row>,
  q: { limit?: number | undefined; cursor?: string | undefined },
  key: PageKey<Row, K>,
  map: (rows: Row[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const limit = pageLimit(q.limit);
  let page = query.orderBy(sql.ref(key.column), key.order).limit(limit + 1);
  if (q.cursor) {
    const [past] = decodeCursor(q.cursor, [key.type]);
    page = page.where(sql.ref(key.column), key.order === 'asc' ? '>' : '<', past);
  }
  return toPage(await page.execute(), limit, map, (row) => encodeCursor([key.of(row)]));
}
