import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * The backend cells the contract tests run against, like kysely's DIALECTS: every case in a file
 * that loops over BACKENDS runs once per cell. `BUILDFLOW_TEST_BACKENDS` picks them (default
 * `sqlite`; CI runs `sqlite,postgres,postgres+redis` against the machine's Postgres and Redis).
 * `sqlite` and `postgres` use the embedded transport (workers claim outbox rows); `+redis` adds
 * the outbox relay, bee-queue queues and the Redis product cache.
 */
export type Backend = 'sqlite' | 'postgres' | 'postgres+redis';
const KNOWN: readonly Backend[] = ['sqlite', 'postgres', 'postgres+redis'];

export const BACKENDS: Backend[] = (process.env.BUILDFLOW_TEST_BACKENDS ?? 'sqlite')
  .split(',')
  .map((b) => b.trim())
  .filter((b): b is Backend => {
    if (!KNOWN.includes(b as Backend)) throw new Error(`BUILDFLOW_TEST_BACKENDS: unknown backend "${b}" (known: ${KNOWN.join(', ')})`);
    return true;
  });

export const TEST_POSTGRES_URL = process.env.BUILDFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.BUILDFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const usesPostgres = (b: Backend): boolean => b.startsWith('postgres');
export const usesRedis = (b: Backend): boolean => b.endsWith('+redis');

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

/** A Redis key prefix no other test uses; `drop` deletes every key under it. */
export function freshRedisPrefix(): { prefix: string; drop(): Promise<void> } {
  const prefix = `bftest-${randomBytes(6).toString('hex')}`;
  return { prefix, drop: () => deleteRedisKeys(prefix) };
}

/** Deletes every key under `prefix:` on the test Redis. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Counts the keys under `prefix:` (to check that a test left nothing behind). */
export async function countRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return (await redis.keys(`${prefix}:*`)).length;
  } finally {
    redis.disconnect();
  }
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
