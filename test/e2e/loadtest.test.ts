import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, json, runCli, tempDir } from '../cli/harness.js';
import { BACKENDS, TEST_REDIS_URL, countRedisKeys, freshPostgresDatabase, usesPostgres, usesRedis, type Backend } from '../helpers/backends.js';

let drop: (() => Promise<void>) | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

/** Where loadtest starts its deployment of `backend`: a fresh Postgres database (dropped after the test), the test Redis. */
async function targetOf(backend: Backend): Promise<{ env: Record<string, string>; args: string[] }> {
  const env: Record<string, string> = {};
  const args: string[] = [];
  if (usesPostgres(backend)) {
    const db = await freshPostgresDatabase();
    drop = db.drop;
    env.BUILDFLOW_DATABASE_URL = db.url;
    args.push('--backend', backend);
  }
  if (usesRedis(backend)) env.BUILDFLOW_REDIS_URL = TEST_REDIS_URL;
  return { env, args };
}

describe('loadtest against buildflow itself', () => {
  for (const backend of BACKENDS) {
    // The chaos each cell can take: every cell loses workers, the embedded one its server too, the Redis one its keys.
    const chaos = backend === 'sqlite' ? ['worker-kill:every=1500ms', 'server-kill'] : backend === 'postgres' ? ['worker-kill:every=1500ms'] : ['worker-kill:every=1500ms', 'redis-flush'];
    it(`when loadtest starts a ${backend} deployment and loads it under ${chaos.join(' and ')} with refunds, cancels after payment and returns, then every check passes (money-reconciles too), doctor reconciles and nothing is left behind`, async () => {
      const target = await targetOf(backend);
      const tmp = tempDir('buildflow-loadtest-history-');
      const history = join(tmp.dir, 'run.jsonl');
      // The admin refunds part of 10 % of the orders once confirmed and cancels 5 % once paid; once
      // the load has settled, 10 % of the confirmed ones are shipped, partly returned and refunded.
      const money = ['--refund-share', '0.1', '--cancel-paid-share', '0.05', '--return-share', '0.1', '--history', history];
      const args = ['loadtest', '--duration', backend === 'sqlite' ? '6s' : '4s', '--customers', '4', '--connections', '8', '--settle-timeout', '90s', '--json', ...money, ...chaos.flatMap((c) => ['--chaos', c]), ...target.args];
      const result = await runCli(args, { env: target.env });
      const report = json(result);
      expect(report.checks.filter((c: { status: string }) => c.status !== 'pass'), result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(report.run.target.kind).toBe(backend);
      // The chaos really happened, each action completed.
      const kinds = new Set(report.run.chaos.map((c: { kind: string }) => c.kind));
      expect([...kinds].sort()).toEqual(chaos.map((c) => c.split(':')[0]).sort());
      expect(report.run.chaos.every((c: { detail: string }) => /^(killed|deleted)/.test(c.detail))).toBe(true);
      expect(report.outcomes.accepted).toBeGreaterThan(10);
      expect(report.outcomes.notFinal).toBe(0);
      // The default workload's one scarce product takes only a few orders out of stock: the rest go the whole way.
      expect(report.outcomes.confirmed).toBeGreaterThan(0);
      expect(report.outcomes.shares.cancelled.out_of_stock ?? 0).toBeLessThanOrEqual(0.1);
      expect(report.outcomes.shares.confirmed).toBeGreaterThan(0.8);
      // The money workload really ran, and the run's orders add up after it.
      const records = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op?: string; status?: number });
      tmp.remove();
      expect(records.filter((r) => r.op === 'refund' && r.status === 201).length).toBeGreaterThan(0);
      // A cancel after payment is never refused (none of these orders ships); a killed server may leave one unanswered.
      expect(records.filter((r) => r.op === 'cancel-paid' && r.status !== 200 && r.status !== 0 && r.status !== 503)).toEqual([]);
      const moneyCheck = report.checks.find((c: { name: string }) => c.name === 'money-reconciles');
      expect(moneyCheck).toMatchObject({ status: 'pass', count: 0 });
      expect(moneyCheck.detail).toMatch(/^the money of all \d+ orders of the run adds up/);
      // The returns' own tally is a note (left out of --json); the test below asserts it, doctor here.
      expect(report.checks.find((c: { name: string }) => c.name === 'doctor')).toMatchObject({ status: 'pass' });
      if (usesRedis(backend)) {
        // The deployment's fresh prefix is gone again.
        expect(report.run.target.redisPrefix).toMatch(/^buildflow-loadtest-[0-9a-f]+$/);
        expect(await countRedisKeys(report.run.target.redisPrefix)).toBe(0);
      }
    }, 180_000);

    it(`when --return-share ships, returns and receives a share of the confirmed orders on ${backend}, then every one is refunded and doctor still reconciles stock and money`, async () => {
      const target = await targetOf(backend);
      const args = ['loadtest', '--orders', '40', '--customers', '4', '--connections', '4', '--seed', '11', '--return-share', '0.25', '--settle-timeout', '60s', ...target.args];
      const result = await runCli(args, { env: target.env });
      expect(result.code, result.stderr).toBe(0);
      const m = /returns: (\d+) of (\d+) drawn orders shipped, returned, received and refunded/.exec(result.stderr);
      expect(m, result.stderr).not.toBeNull();
      expect(Number(m![2])).toBeGreaterThan(0);
      expect(m![1]).toBe(m![2]);
      expect(result.stderr).not.toContain('failed:');
      expect(result.stdout).toMatch(/✓ │ doctor/);
    }, 120_000);
  }
});
