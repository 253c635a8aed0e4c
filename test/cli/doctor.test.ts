import { existsSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, TEST_REDIS_URL, usesRedis } from '../helpers/backends.js';
import { assertBuilt, hasStackTrace, json, runCli, tempDir } from './harness.js';

const REDIS_URL = TEST_REDIS_URL;
const CHECKS = ['database', 'migrations', 'outbox-backlog', 'workers', 'stuck-orders', 'stock-reconciliation', 'money-reconciliation', 'redis', 'redis-persistence', 'redis-eviction'];

// One migrated deployment for the healthy cases, one empty directory for the broken ones.
const migrated = tempDir();
const empty = tempDir();

beforeAll(async () => {
  assertBuilt();
  const r = await runCli(['migrate', '--data-dir', migrated.dir]);
  if (r.code !== 0) throw new Error(`migrate failed: ${r.stderr}`);
});
afterAll(() => {
  migrated.remove();
  empty.remove();
});

interface Report {
  healthy: boolean;
  status: string;
  checks: { name: string; status: string; detail: string; data?: Record<string, unknown> }[];
}

describe('buildflow doctor', () => {
  it('when asked for help, then it lists the checks, the exit codes and examples', async () => {
    const r = await runCli(['doctor', '--help']);
    expect(r.code).toBe(0);
    for (const name of CHECKS) expect(r.stdout).toContain(name);
    expect(r.stdout).toContain('9 unhealthy');
    expect(r.stdout).toContain('Examples:');
    const root = await runCli(['--help']);
    expect(root.stdout).toContain('9 unhealthy (doctor)');
  });

  it('when the deployment is healthy, then --json prints every check on stdout and it exits 0', async () => {
    const r = await runCli(['doctor', '--data-dir', migrated.dir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = json<Report>(r);
    expect(report).toMatchObject({ healthy: true, status: 'ok' });
    expect(report.checks.map((c) => c.name)).toEqual(CHECKS);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(c.data === undefined ? ['detail', 'name', 'status'] : ['data', 'detail', 'name', 'status']);
      expect(c.status, c.name).toBe(c.name.startsWith('redis') ? 'skip' : 'ok');
      expect(typeof c.detail).toBe('string');
    }
  });

  it('when the deployment is healthy, then the text report has one line per check and says healthy', async () => {
    const r = await runCli(['doctor', '--data-dir', migrated.dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(CHECKS.length + 1);
    expect(lines[0]).toBe(`ok    database              SQLite at ${join(migrated.dir, 'buildflow.db')}`);
    expect(lines.at(-1)).toBe('healthy');
  });

  it('when there is no database, then it exits 9 with the failed check in the JSON, one error line, and creates nothing', async () => {
    const r = await runCli(['doctor', '--data-dir', empty.dir, '--json']);
    expect(r.code).toBe(9);
    const report = json<Report>(r); // the report, not an { error } object
    expect(report).toMatchObject({ healthy: false, status: 'fail' });
    expect(report.checks[0]).toEqual({
      name: 'database',
      status: 'fail',
      detail: `no database at ${join(empty.dir, 'buildflow.db')} (run buildflow migrate or serve)`,
      data: { dialect: 'sqlite', file: join(empty.dir, 'buildflow.db') },
    });
    expect(report.checks.find((c) => c.name === 'stock-reconciliation')).toMatchObject({ status: 'skip', detail: 'skipped: there is no database' });
    expect(r.stderr).toBe('error: unhealthy: 1 check failed (database)\n');
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
    expect(existsSync(join(empty.dir, 'buildflow.db'))).toBe(false);
  });

  it.skipIf(!BACKENDS.some(usesRedis))('when the Redis on this machine is checked, then the exit code follows what CONFIG GET reads', async () => {
    const redis = new Redis(REDIS_URL);
    let appendonly: string;
    let policy: string;
    try {
      appendonly = ((await redis.config('GET', 'appendonly')) as string[])[1]!;
      policy = ((await redis.config('GET', 'maxmemory-policy')) as string[])[1]!;
    } finally {
      redis.disconnect();
    }
    const r = await runCli(['doctor', '--data-dir', migrated.dir, '--json'], { env: { BUILDFLOW_REDIS_URL: REDIS_URL } });
    const report = json<Report>(r);
    const safe = appendonly === 'yes' && policy === 'noeviction';
    expect(r.code).toBe(safe ? 0 : 9);
    expect(report.checks.find((c) => c.name === 'redis')?.status).toBe('ok');
    expect(report.checks.find((c) => c.name === 'redis-persistence')).toMatchObject({
      status: appendonly === 'yes' ? 'ok' : 'fail',
      data: { appendonly, source: 'CONFIG GET' },
    });
    if (!safe) expect(r.stderr).toMatch(/^error: unhealthy: \d checks? failed \(redis-/);
  });

  it('when Redis is unreachable, then it fails fast and exits 9', async () => {
    const started = Date.now();
    const r = await runCli(['doctor', '--data-dir', migrated.dir], { env: { BUILDFLOW_REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).toBe(9);
    expect(r.stdout).toContain('fail  redis                 cannot connect to Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    expect(r.stderr).toBe('error: unhealthy: 1 check failed (redis)\n');
  });

  it('when the database and Redis ports accept but never answer, then the process still ends soon after --timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s.on('error', () => {})));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await runCli(['doctor', '--timeout', '500ms', '--json'], {
        env: { BUILDFLOW_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, BUILDFLOW_REDIS_URL: `redis://127.0.0.1:${port}` },
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.code).toBe(9);
      const report = json<Report>(r);
      expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['database', 'redis']);
      for (const c of report.checks.filter((x) => x.status === 'fail')) expect(c.detail).toContain('did not answer within 500 ms');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('when --accept names a check that cannot be accepted, then it exits 2 in one line naming the acceptable ones', async () => {
    const r = await runCli(['doctor', '--data-dir', migrated.dir, '--accept', 'stock-reconciliation']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: invalid configuration: BUILDFLOW_ACCEPT: "stock-reconciliation" cannot be accepted (acceptable: redis-persistence, redis-eviction)');
  });

  it.skipIf(!BACKENDS.some(usesRedis))('when --accept redis-persistence is given, then a Redis without AOF is a warning that says it is accepted', async () => {
    const r = await runCli(['doctor', '--data-dir', migrated.dir, '--accept', 'redis-persistence', '--json'], { env: { BUILDFLOW_REDIS_URL: REDIS_URL } });
    const persistence = json<Report>(r).checks.find((c) => c.name === 'redis-persistence')!;
    expect(['ok', 'warn']).toContain(persistence.status);
    if (persistence.status === 'warn') expect(persistence.detail).toMatch(/^accepted \(BUILDFLOW_ACCEPT or --accept\): Redis appendonly is off/);
  });

  it('when the configuration is invalid, then it exits 2 as any command does', async () => {
    const r = await runCli(['doctor', '--json'], { env: { BUILDFLOW_REDIS_URL: 'http://nope' } });
    expect(r.code).toBe(2);
    expect(json(r)).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
  });
});
