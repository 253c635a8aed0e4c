import { sql, type Expression, type RawBuilder } from 'kysely';
import type { Db } from './unit-of-work.js';
import { isPostgres } from './postgres.js';

/**
 * Set-based SQL that reads the same on both dialects and keeps one statement text whatever the
 * number of values: Postgres takes an array parameter (`= any($1::text[])`, `unnest(…)`), SQLite a
 * JSON parameter (`json_each(?)`). A constant text is what lets Postgres keep one prepared
 * statement, and SQLite one cached statement, per query however large the batch.
 */

/** `column` is one of `values` (text or integer keys). */
export function inSet(db: Db, column: Expression<unknown> | string, values: readonly (string | number)[]): RawBuilder<boolean> {
  const ref = typeof column === 'string' ? sql.ref(column) : column;
  if (isPostgres(db)) {
    const type = typeof values[0] === 'number' ? sql`bigint[]` : sql`text[]`;
    return sql<boolean>`${ref} = any(cast(${values as unknown[]} as ${type}))`;
  }
  return sql<boolean>`${ref} in (select value from json_each(${JSON.stringify(values)}))`;
}

/** A column of a row set passed as one parameter per column. */
export interface SetColumn {
  name: string;
  type: 'text' | 'bigint';
  values: readonly (string | number | null)[];
}

/**
 * A derived table `(…) as alias(col, …)` of rows given column by column, for
 * `UPDATE … FROM` and joins: `unnest` of one array per column on Postgres, `json_each` of one JSON
 * array of rows on SQLite.
 */
export function rowSet(db: Db, alias: string, columns: readonly SetColumn[]): RawBuilder<unknown> {
  if (isPostgres(db)) {
    const arrays = columns.map((c) => sql`cast(${c.values as unknown[]} as ${sql.raw(`${c.type}[]`)})`);
    return sql`unnest(${sql.join(arrays)}) as ${sql.raw(`${alias}(${columns.map((c) => `"${c.name}"`).join(', ')})`)}`;
  }
  const n = columns[0]?.values.length ?? 0;
  const rows: unknown[][] = [];
  for (let i = 0; i < n; i++) rows.push(columns.map((c) => c.values[i]));
  const picks = columns.map((c, k) => sql.raw(`json_extract(value, '$[${k}]') as "${c.name}"`));
  return sql`(select ${sql.join(picks)} from json_each(${JSON.stringify(rows)})) as ${sql.raw(alias)}`;
}
