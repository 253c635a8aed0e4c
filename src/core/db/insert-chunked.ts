import { CompiledQuery, type Insertable } from 'kysely';
import type { Database, Db } from './schema.js';
import { isPostgres } from './postgres.js';

// Bound on rows per INSERT: keeps parameters far below SQLite's 32766 and Postgres' 65535.
const MAX_ROWS_PER_INSERT = 256;

// SQL texts by dialect, table, columns and row count. The hot paths (intake, the pipeline's
// deferred rows) insert a few hundred rows per transaction; building those statements through
// kysely's query builder cost about as much as SQLite spent executing them.
const texts = new Map<string, string>();

function insertText(postgres: boolean, table: string, columns: readonly string[], rows: number, ignoreConflicts: boolean): string {
  const cacheKey = `${postgres ? 'pg' : 'lite'} ${table} ${columns.join(',')} ${rows} ${ignoreConflicts}`;
  let text = texts.get(cacheKey);
  if (!text) {
    let n = 0;
    const tuple = () => `(${columns.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`;
    const tuples = Array.from({ length: rows }, tuple).join(', ');
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples}${ignoreConflicts ? ' on conflict do nothing' : ''}`;
    texts.set(cacheKey, text);
  }
  return text;
}

/** The largest power of two not above `n` (n >= 1), capped at MAX_ROWS_PER_INSERT. */
function chunkSize(n: number): number {
  let size = 1;
  while (size * 2 <= n && size * 2 <= MAX_ROWS_PER_INSERT) size *= 2;
  return size;
}

/**
 * Inserts many rows in few multi-row statements. Rows are cut into power-of-two chunks, so a table
 * sees at most a handful of distinct statements and SQLite's prepared-statement cache keeps them
 * all. Rows with different columns (an optional column left out) go in separate statements, so a
 * left-out column gets its default; columns whose value is `undefined` count as left out.
 * `ignoreConflicts` skips rows that would repeat a unique key (`on conflict do nothing`).
 */
export async function insertChunked<T extends keyof Database & string>(
  trx: Db,
  table: T,
  rows: readonly Insertable<Database[T]>[],
  options: { ignoreConflicts?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  const groups = new Map<string, { columns: string[]; rows: Record<string, unknown>[] }>();
  for (const row of rows as readonly Record<string, unknown>[]) {
    const columns = Object.keys(row).filter((c) => row[c] !== undefined);
    const signature = columns.join(',');
    let group = groups.get(signature);
    if (!group) groups.set(signature, (group = { columns, rows: [] }));
    group.rows.push(row);
  }
  const postgres = isPostgres(trx);
  for (const { columns, rows: grouped } of groups.values()) {
    for (let i = 0; i < grouped.length; ) {
      const size = chunkSize(grouped.length - i);
      const params: unknown[] = [];
      for (let r = i; r < i + size; r++) for (const c of columns) params.push(grouped[r]![c]);
      await trx.executeQuery(CompiledQuery.raw(insertText(postgres, table, columns, size, options.ignoreConflicts ?? false), params));
      i += size;
    }
  }
}
