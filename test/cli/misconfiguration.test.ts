import { createServer } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../helpers/backends.js';
import { assertBuilt, hasStackTrace, runCli, tempDir } from './harness.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

let port: number;
const dir = tempDir();
beforeAll(async () => {
  assertBuilt();
  port = await closedPort();
});
afterAll(() => dir.remove());

/** The one line a refused start prints, and its exit code. */
async function refusal(args: string[], env: Record<string, string>): Promise<{ code: number | null; line: string }> {
  const r = await runCli(args, { env });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stdout).toBe('');
  return { code: r.code, line: lines[0]! };
}

describe('misconfiguration in one line', () => {
  const commands = [['serve', '--no-worker', '--port', '0'], ['serve', '--port', '0'], ['worker'], ['migrate'], ['seed'], ['dead-letters', 'list']];

  for (const args of commands) {
    it(`when Postgres is unreachable, then ${args.join(' ')} names it, its URL without the password and the variable, and exits 5`, async () => {
      const r = await refusal([...args, '--data-dir', dir.dir], { BUILDFLOW_DATABASE_URL: `postgres://shop:s3cret-pw@127.0.0.1:${port}/shop` });
      expect(r.code).toBe(5);
      expect(r.line).toBe(
        `error: cannot connect to Postgres at postgres://127.0.0.1:${port}/shop: connect ECONNREFUSED 127.0.0.1:${port} (check BUILDFLOW_DATABASE_URL and that the server is up)`,
      );
    });
  }

  it('when the Postgres database does not exist, then migrate says so in one line and exits 5', async () => {
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = '/bf_no_such_database';
    const r = await refusal(['migrate'], { BUILDFLOW_DATABASE_URL: url.toString() });
    expect(r.code).toBe(5);
    expect(r.line).toMatch(/^error: cannot connect to Postgres at postgres:\/\/[^@]+\/bf_no_such_database: database "bf_no_such_database" does not exist \(check BUILDFLOW_DATABASE_URL/);
  });

  for (const args of [['serve', '--no-worker', '--port', '0'], ['worker']]) {
    it(`when Redis is unreachable, then ${args.join(' ')} names it and exits 5 before it logs ready`, async () => {
      const r = await refusal([...args, '--data-dir', dir.dir], { BUILDFLOW_REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}` });
      expect(r.code).toBe(5);
      expect(r.line).toBe(`error: cannot connect to Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (check BUILDFLOW_REDIS_URL and that the server is up)`);
    });
  }

  for (const args of [['serve', '--port', '0'], ['worker']]) {
    it(`when the SMTP server is unreachable, then ${args.join(' ')} names it and exits 5`, async () => {
      const r = await refusal([...args, '--data-dir', dir.dir], { BUILDFLOW_SMTP_URL: `smtp://mailer:s3cret-pw@127.0.0.1:${port}`, BUILDFLOW_MAIL_FROM: 'shop@example.com' });
      expect(r.code).toBe(5);
      expect(r.line).toBe(`error: cannot connect to the SMTP server at smtp://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (check BUILDFLOW_SMTP_URL and that the server is up)`);
    });
  }

  it('when loadtest is to start a postgres+redis deployment and Redis is unreachable, then it names Redis and exits 5', async () => {
    const r = await refusal(['loadtest', '--backend', 'postgres+redis', '--orders', '1'], { BUILDFLOW_DATABASE_URL: TEST_POSTGRES_URL, BUILDFLOW_REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(r.line).toMatch(new RegExp(`^error: cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: `));
  });

  it('when nothing could be reached, then nothing was written in the data directory', () => {
    expect(existsSync(dir.dir) ? readdirSync(dir.dir) : []).toEqual([]);
  });
});

describe('commands that read a deployment never create one', () => {
  it('when dead-letters runs where there is no database, then it refuses with doctor’s words and exit 9, and creates nothing', async () => {
    const empty = join(dir.dir, 'typo');
    for (const args of [['dead-letters', 'list'], ['dead-letters', 'retry', '1']]) {
      const r = await refusal([...args, '--data-dir', empty], {});
      expect(r.code).toBe(9);
      expect(r.line).toBe(`error: no database at ${join(empty, 'buildflow.db')} (run buildflow migrate or serve)`);
    }
    expect(existsSync(empty)).toBe(false);
  });

  it('when dead-letters runs on a Postgres database never migrated, then it refuses with doctor’s words and exit 9', async () => {
    const r = await refusal(['dead-letters', 'list'], { BUILDFLOW_DATABASE_URL: TEST_POSTGRES_URL.replace(/\/[^/]*$/, '/postgres') });
    expect(r.code).toBe(9);
    expect(r.line).toMatch(/^error: the database is not migrated \(none of \d+ migrations applied\): run buildflow migrate$/);
  });
});
