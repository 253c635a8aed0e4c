import { describe, expect, it } from 'vitest';
import { describeBackend } from '../../src/core/describe-backend.js';

describe("serve's start line", () => {
  it('when the deployment is embedded, then it names the SQLite file', () => {
    expect(describeBackend({ dataDir: '/var/lib/buildflow', databaseUrl: undefined, redis: { url: undefined } as never })).toBe('sqlite /var/lib/buildflow/buildflow.db, no redis');
  });

  it('when it runs on Postgres and Redis, then it names host, port and database, and never a user or password', () => {
    const line = describeBackend({
      dataDir: '/x',
      databaseUrl: 'postgres://shop:s3cret-pw@db.internal:6432/shop',
      redis: { url: 'redis://:redis-pw@cache:6379/0' } as never,
    });
    expect(line).toBe('postgres db.internal:6432/shop, redis cache:6379');
    expect(line).not.toMatch(/s3cret|redis-pw|shop:/);
  });
});
