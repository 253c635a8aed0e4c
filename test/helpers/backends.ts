import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The storage backends the contract tests run against, like kysely's DIALECTS: every case in a
 * file that loops over BACKENDS runs once per backend. `BUILDFLOW_TEST_BACKENDS` picks them
 * (default `sqlite`; CI runs `sqlite,postgres` against the machine's Postgres).
 */
export type Backend = 'sqlite' | 'postgres';

export const BACKENDS: Backend[] = (process.env.BUILDFLOW_TEST_BACKENDS ?? 'sqlite')
  .split(',')
  .map((b) => b.trim())
  .filter((b): b is Backend => {
    if (b !== 'sqlite' && b !== 'postgres') throw new Error(`BUILDFLOW_TEST_BACKENDS: unknown backend "${b}"`);
    return true;
  });

export const TEST_POSTGRES_URL = process.env.BUILDFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh database on the test server, and its URL; removed by `drop`. A database rather than a
 * schema: kysely's migrator introspects every schema of its database, and a schema that another
 * test drops at that moment makes the introspection fail.
 */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bf_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database "${name}" with (force)`) };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
