import { CompiledQuery, sql, type Expression, type RawBuilder } from 'kysely';
import type { Db } from './schema.js';
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

// SQLite's bound on parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER's default).
const SQLITE_MAX_PARAMS = 32766;
// SQLite insert texts by table, columns, row bucket and clauses (see sqliteInsert).
const sqliteTexts = new Map<string, string>();

/**
 * One SQLite INSERT of `rows` as bound VALUES, padded to the next power of two with rows whose
 * marker is null and that the WHERE drops: a table sees at most a dozen texts, which SQLite's
 * statement cache keeps, and binding values costs less than SQLite spends taking them apart
 * from JSON (intake's batch of 16 orders: 12.4 ms with json_each, 8.1 ms so, in kysely's query
 * log over 200 batches). Undefined when the rows need more parameters than one statement holds.
 */
function sqliteInsert(table: string, names: readonly string[], rows: readonly Record<string, unknown>[], tail: string): CompiledQuery | undefined {
  let bucket = 1;
  while (bucket < rows.length) bucket *= 2;
  const width = names.length + 1;
  if (bucket * width > SQLITE_MAX_PARAMS) return undefined;
  const key = `${table} ${names.join(',')} ${bucket} ${tail}`;
  let text = sqliteTexts.get(key);
  if (!text) {
    const tuple = `(${Array(width).fill('?').join(', ')})`;
    const picks = names.map((_, k) => `column${k + 2}`).join(', ');
    text = `insert into "${table}" (${names.map((n) => `"${n}"`).join(', ')}) select ${picks} from (values ${Array(bucket).fill(tuple).join(', ')}) where column1 is not null${tail}`;
    sqliteTexts.set(key, text);
  }
  // Presized and null-filled: the padding rows are already in place.
  const params = new Array<unknown>(bucket * width).fill(null);
  let p = 0;
  for (const r of rows) {
    params[p++] = 1;
    for (const n of names) params[p++] = r[n] ?? null;
  }
  return CompiledQuery.raw(text, params);
}

/**
 * The columns that hold a value in at least one row, in the order first seen. A column null in
 * every row is left out (it gets its default, null in every collected table): with no value to
 * tell its type, Postgres would take it for text. One pass, no intermediate arrays: intake runs
 * this for five tables per batch on the SQLite commit thread.
 */
function filledColumns(rows: readonly Record<string, unknown>[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (seen.has(k)) continue;
      const v = r[k];
      if (v === undefined || v === null) continue;
      seen.add(k);
      names.push(k);
    }
  }
  return names;
}

/**
 * Inserts any number of rows in one statement whose text depends only on the table and columns:
 * `insert … select … from unnest($1::text[], $2::bigint[], …)` on Postgres; on SQLite bound VALUES
 * (see sqliteInsert), or `… from json_each(?)` for more rows than those hold. A column's type is taken from its values (integers → bigint, anything else → text);
 * a column that is `undefined` or null in every row is left to its default. `ignoreConflicts` skips rows
 * that would repeat a unique key (`on conflict do nothing`); `returning` names columns of the rows
 * actually inserted to give back (none: an empty list).
 */
export async function insertRows(
  db: Db,
  table: string,
  rows: readonly Record<string, unknown>[],
  options: { ignoreConflicts?: boolean; returning?: readonly string[] } = {},
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const names = filledColumns(rows);
  const tail = `${options.ignoreConflicts ? ' on conflict do nothing' : ''}${options.returning?.length ? ` returning ${options.returning.map((n) => `"${n}"`).join(', ')}` : ''}`;
  const values = isPostgres(db) ? undefined : sqliteInsert(table, names, rows, tail);
  if (values) return (await db.executeQuery<Record<string, unknown>>(values)).rows;
  const columns: SetColumn[] = names.map((name) => {
    const values = rows.map((r) => (r[name] === undefined ? null : (r[name] as string | number | null)));
    const sample = values.find((v) => v !== null);
    return { name, type: typeof sample === 'number' && Number.isInteger(sample) ? 'bigint' : 'text', values };
  });
  const target = sql.raw(`"${table}" (${names.map((n) => `"${n}"`).join(', ')})`);
  const picks = sql.raw(names.map((n) => `v."${n}"`).join(', '));
  // SQLite needs a WHERE to tell `… from json_each(?) on conflict` from a join's ON clause.
  const result = await sql<Record<string, unknown>>`insert into ${target} select ${picks} from ${rowSet(db, 'v', columns)} where true${sql.raw(tail)}`.execute(db);
  return result.rows;
}
