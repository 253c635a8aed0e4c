import { BuildflowError } from './errors.js';
import { DEFAULTS } from './defaults.js';

export const DEFAULT_PAGE_LIMIT = DEFAULTS.pages.defaultLimit;
export const MAX_PAGE_LIMIT = DEFAULTS.pages.maxLimit;

/** A page of results; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Clamps a requested page size into 1..MAX_PAGE_LIMIT. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new BuildflowError('VALIDATION_FAILED', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

/** Cursors are opaque to clients: base64url of the position's parts. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}, checking the shape the caller expects. */
export function decodeCursor<T extends readonly ('string' | 'number')[]>(cursor: string, shape: T): { [K in keyof T]: T[K] extends 'string' ? string : number } {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== shape.length || parts.some((p, i) => typeof p !== shape[i])) {
    throw new BuildflowError('VALIDATION_FAILED', 'cursor is not valid');
  }
  return parts as never;
}

/** Splits a `limit + 1` query result into a page and the cursor for the next one. */
export function toPage<Row, T>(rows: Row[], limit: number, map: (rows: Row[]) => T[] | Promise<T[]>, cursorOf: (row: Row) => string): Promise<Page<T>> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return Promise.resolve(map(pageRows)).then((items) => (more ? { items, nextCursor: cursorOf(pageRows[pageRows.length - 1]!) } : { items }));
}
