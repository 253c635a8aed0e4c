import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, hasStackTrace, json, runCli, tempDir } from './harness.js';

// Commands that need no server: help, usage errors, the database tools, an unreachable API.
const tmp = tempDir();
const dataDir = tmp.dir;

beforeAll(() => assertBuilt());
afterAll(() => tmp.remove());

describe('buildflow (no server)', () => {
  it('when asked for help on order create, then it shows examples and exits 0', async () => {
    const r = await runCli(['order', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--item');
  });

  it('when asked for the version, then it prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('when migrating a new data directory, then --json lists the applied migrations, and a re-run applies none', async () => {
    const first = await runCli(['migrate', '--data-dir', dataDir, '--json']);
    expect(first.code).toBe(0);
    expect(json(first)).toEqual({ applied: ['0001-initial', '0002-customers-and-shipments', '0003-outbox-publishing', '0004-order-reference-numbers', '0005-drop-orders-created-index', '0006-stats-counters-and-workers', '0007-webhooks-and-email', '0010-outbox-unpublished-index', '0011-stats-funnel-counters', '0012-outbox-stats-row-trigger', '0013-one-message-per-order', '0014-discarded-dead-letters-and-rate-limits', '0015-payment-ledger', '0016-returns', '0017-money-counters'] });

    const again = await runCli(['migrate', '--data-dir', dataDir, '--json']);
    expect(json(again)).toEqual({ applied: [] });
    const text = await runCli(['migrate', '--data-dir', dataDir]);
    expect(text.stdout.trim()).toBe('database is up to date');
  });

  it('when seeding twice, then the second run creates nothing', async () => {
    const dir = tempDir();
    try {
      const first = await runCli(['seed', '--data-dir', dir.dir]);
      expect(first.code).toBe(0);
      const m = /^seeded (\d+) products \((\d+) created, (\d+) updated\)$/.exec(first.stdout.trim());
      expect(m).not.toBeNull();
      const total = Number(m![1]);
      expect(total).toBeGreaterThanOrEqual(60);
      expect(Number(m![2])).toBe(total);

      const second = await runCli(['seed', '--data-dir', dir.dir, '--json']);
      expect(second.code).toBe(0);
      expect(json(second)).toMatchObject({ products: total, created: 0, updated: total });
    } finally {
      dir.remove();
    }
  });

  it('when the catalog file is missing, then it exits 4 with one line on stderr', async () => {
    const r = await runCli(['seed', `${dataDir}/no-such-catalog.json`, '--data-dir', dataDir]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: cannot read catalog .*no-such-catalog\.json: no such file/);
    expect(r.stdout).toBe('');
  });

  it('when the catalog has a bad entry or is not JSON, then it exits 4 naming the problem', async () => {
    const bad = tmp.file('bad-entry.json', [{ sku: 'OK-1', name: 'Fine', category: 'x', unitPriceCents: 100 }, { sku: 'NO PRICE', name: 'x', category: 'x' }]);
    const r = await runCli(['seed', bad, '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(4);
    expect(json(r)).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('catalog entry 1') } });
    expect(hasStackTrace(r.stderr)).toBe(false);

    const notJson = tmp.file('not-json.json', '{ nope');
    const r2 = await runCli(['seed', notJson, '--data-dir', dataDir]);
    expect(r2.code).toBe(4);
    expect(r2.stderr).toMatch(/^error: catalog .* is not valid JSON/);
  });

  it('when there are no dead letters, then list --json prints []', async () => {
    const r = await runCli(['dead-letters', 'list', '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([]);
  });

  it('when retrying a dead letter that does not exist, then it exits 3', async () => {
    const r = await runCli(['dead-letters', 'retry', '999', '--data-dir', dataDir]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe('error: no dead letter with id 999');
  });

  it('when --item is not SKU:QTY, then it exits 2 before contacting anyone', async () => {
    for (const item of ['PT-DRL-18V', 'PT-DRL-18V:0', 'PT-DRL-18V:two', ':3']) {
      const r = await runCli(['order', 'create', '--item', item, '--url', 'http://127.0.0.1:9']);
      expect(r.code, item).toBe(2);
      expect(r.stderr).toContain('expected SKU:QTY');
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('when a flag or command is unknown, then it exits 2 and --json gets a USAGE error', async () => {
    const r = await runCli(['order', 'list', '--colour', '--json']);
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({ error: { code: 'USAGE', message: expect.stringContaining('--colour') } });
    expect((await runCli(['orders'])).code).toBe(2);
  });

  it('when an env var is invalid, then it exits 2 with a one-line message', async () => {
    const r = await runCli(['migrate', '--data-dir', dataDir], { env: { BUILDFLOW_LOG_LEVEL: 'loud' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: invalid configuration: .*BUILDFLOW_LOG_LEVEL/);
  });

  it('when the server cannot be reached, then it exits 5 saying where it tried', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const r = await runCli(['product', 'list', '--url', url]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toMatch(new RegExp(`^error: cannot reach buildflow at ${url}: .*ECONNREFUSED`));
    expect(r.stdout).toBe('');

    const viaEnv = await runCli(['order', 'get', 'BF-AAAAAAAA', '--json'], { env: { BUILDFLOW_URL: url } });
    expect(viaEnv.code).toBe(5);
    expect(json(viaEnv).error.code).toBe('UNREACHABLE');
  });

  it('when --url is not an http URL, then it exits 2', async () => {
    const r = await runCli(['product', 'list', '--url', 'not-a-url']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: the API URL must be an http\(s\) URL/);
  });

  it('when no --item is given and stdin is empty, then it exits 2', async () => {
    const r = await runCli(['order', 'create', '--url', 'http://127.0.0.1:9'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--item');
  });

  it('when serve starts in production mode without a strong token secret, then it exits 2 naming the variable, never the value', async () => {
    const port = String(await freePort());
    const missing = await runCli(['serve', '--port', port, '--data-dir', dataDir], { env: { BUILDFLOW_ENV: 'production' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^error: BUILDFLOW_TOKEN_SECRET is missing or weak/);
    const weak = await runCli(['serve', '--port', port, '--data-dir', dataDir], { env: { BUILDFLOW_ENV: 'production', BUILDFLOW_TOKEN_SECRET: 'secret-secret-secret-secret-secret' } });
    expect(weak.code).toBe(2);
    expect(weak.stderr).not.toContain('secret-secret');
  });

  it('when a password would be needed and none is piped or set, then login exits 2 without asking anyone', async () => {
    const r = await runCli(['login', '--email', 'a@example.com', '--url', 'http://127.0.0.1:9'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BUILDFLOW_PASSWORD/);
  });
});
