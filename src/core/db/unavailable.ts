/**
 * Recognises failures that mean "the database cannot serve right now" rather than "this request or
 * this code is wrong": the connection was refused, dropped or timed out, the server is shutting
 * down or starting up, or (SQLite) another writer kept the file locked past the busy timeout. A
 * caller answers these as UNAVAILABLE (retry later) instead of an internal error.
 *
 * The error objects come from the drivers, so this is the one place that knows their shapes:
 * - pg `DatabaseError` carries the server's SQLSTATE in `code` (57P01 after pg_terminate_backend);
 * - a socket failure is a Node system error with an errno `code` (ECONNREFUSED, ECONNRESET, …),
 *   possibly an AggregateError of one per address tried;
 * - pg and pg-pool raise plain `Error`s without a code when a connection ends under them; those
 *   are known by their exact message (pg 8 / pg-pool 3), optionally wrapped as `cause`;
 * - better-sqlite3 `SqliteError` carries SQLITE_BUSY (and its extended codes) in `code`.
 */

// SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) besides class 08,
// connection_exception, which is matched by prefix.
const PG_UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, smart/fast shutdown
  '57P02', // crash_shutdown: another backend crashed, the server is restarting
  '57P03', // cannot_connect_now: the server is starting up or in recovery
  '53300', // too_many_connections
]);

// Node system errors of a socket to the database.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

// pg and pg-pool's own errors when a connection ends or cannot be made; they carry no code.
const PG_CONNECTION_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout expired',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

const SQLITE_BUSY = /^SQLITE_BUSY(_[A-Z]+)?$/;

function isUnavailableCode(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  if (/^08[0-9A-Z]{3}$/.test(code)) return true; // SQLSTATE class 08, connection_exception
  return PG_UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code) || SQLITE_BUSY.test(code);
}

/** True when `err` (or an error it wraps) says the database is unreachable or cannot serve now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  // Bounded walk: causes and aggregated errors may nest, and a cycle must not hang the caller.
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (isUnavailableCode(code)) return true;
    if (code === undefined && typeof message === 'string' && PG_CONNECTION_MESSAGES.has(message)) return true;
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return false;
}
