import { join } from 'node:path';
import type { Config } from './config.js';

/** Where a URL points, without its credentials: `host:port/database`. */
function whereOf(url: string, withPath: boolean): string {
  try {
    const u = new URL(url);
    const path = withPath ? decodeURIComponent(u.pathname.replace(/^\//, '')) : '';
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${path ? `/${path}` : ''}`;
  } catch {
    return 'an unreadable URL';
  }
}

/**
 * The storage and transport a deployment runs on, for its start line: the SQLite file, or the
 * Postgres host and database (never the user or password), and Redis or none.
 */
export function describeBackend(config: Pick<Config, 'dataDir' | 'databaseUrl' | 'redis'>): string {
  // The file name is the one db/sqlite/sqlite.ts opens; importing it would load better-sqlite3 here.
  const storage = config.databaseUrl === undefined ? `sqlite ${join(config.dataDir, 'buildflow.db')}` : `postgres ${whereOf(config.databaseUrl, true)}`;
  const redis = config.redis.url === undefined ? 'no redis' : `redis ${whereOf(config.redis.url, false)}`;
  return `${storage}, ${redis}`;
}
