import type pg from 'pg';

// Statement texts that repeat get a name, so each connection parses and plans them once and then
// only binds and executes (Postgres switches a named statement to a cached generic plan when that
// costs no more). Texts are constant per query shape — value lists travel as array parameters, see
// db/sets.ts — so the set is small; the bound keeps a caller that builds texts from data from
// filling every connection with statements.
const MAX_NAMED_STATEMENTS = 256;

// duplicate_prepared_statement, and invalid_sql_statement_name ("prepared statement … does not exist").
const LOST_STATEMENT_CODES = new Set(['42P05', '26000']);

/** What an operator reads when a pooler mixed up named statements between clients. */
export const POOLER_HINT =
  'a pooler in transaction mode shares server sessions between clients, so named prepared statements collide ' +
  '(PgBouncer before 1.21, or without max_prepared_statements): set BUILDFLOW_DATABASE_PREPARED_STATEMENTS=off';

/**
 * The names of one pool's repeated statements. Per pool, not per process: two pools (two
 * databases, or a test's reader beside the app) name their own statements.
 */
export class StatementNames {
  private readonly seen = new Map<string, number>();
  private readonly names = new Map<string, string>();

  /** The name `text` runs under, once it has been seen twice; undefined while it runs unnamed. */
  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name) return name;
    if (this.names.size >= MAX_NAMED_STATEMENTS || text.length > 10_000) return undefined;
    const n = (this.seen.get(text) ?? 0) + 1;
    if (n < 2) {
      if (this.seen.size < 4 * MAX_NAMED_STATEMENTS) this.seen.set(text, n);
      return undefined;
    }
    this.seen.delete(text);
    const fresh = `bf_${this.names.size + 1}`;
    this.names.set(text, fresh);
    return fresh;
  }
}

/**
 * Makes `client` count its statements (through `count`) and, with `names`, run repeated
 * parameterised texts as named statements. A named statement the server does not know, or knows
 * already, means a pooler hands this connection's statements to other server sessions: the error
 * then says which setting to change.
 */
export function instrumentClient(client: pg.PoolClient, names: StatementNames | undefined, count: () => void): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    count();
    const [text, values] = args;
    if (names && typeof text === 'string' && Array.isArray(values) && args.length === 2) {
      const name = names.nameFor(text);
      if (name) return (query({ name, text, values }) as Promise<unknown>).catch(explainLostStatement);
    }
    return query(...args);
  };
}

function explainLostStatement(err: unknown): never {
  const e = err as { code?: unknown; message?: unknown };
  if (err instanceof Error && typeof e.code === 'string' && LOST_STATEMENT_CODES.has(e.code)) {
    err.message = `${err.message}: ${POOLER_HINT}`;
  }
  throw err;
}
