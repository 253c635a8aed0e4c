import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, json, runCli } from '../cli/harness.js';
import { BACKENDS, TEST_REDIS_URL, countRedisKeys, freshPostgresDatabase, usesPostgres, usesRedis } from '../helpers/backends.js';

let drop: (() => Promise<void>) | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

describe('loadtest against buildflow itself', () => {
  for (const backend of BACKENDS) {
    it(`when loadtest starts a ${backend} deployment and loads it briefly, then every check passes and nothing is left behind`, async () => {
      const env: Record<string, string> = {};
      const args = ['loadtest', '--duration', '3s', '--customers', '4', '--connections', '8', '--settle-timeout', '60s', '--json'];
      if (usesPostgres(backend)) {
        const db = await freshPostgresDatabase();
        drop = db.drop;
        env.BUILDFLOW_DATABASE_URL = db.url;
        args.push('--backend', backend);
      }
      if (usesRedis(backend)) env.BUILDFLOW_REDIS_URL = TEST_REDIS_URL;
      const result = await runCli(args, { env });
      const report = json(result);
      expect(report.checks.filter((c: { status: string }) => c.status !== 'pass'), result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(report.run.target.kind).toBe(backend);
      expect(report.outcomes.accepted).toBeGreaterThan(10);
      expect(report.outcomes.notFinal).toBe(0);
      // The hot product runs out: some orders end out_of_stock, the rest are confirmed.
      expect(report.outcomes.confirmed).toBeGreaterThan(0);
      if (usesRedis(backend)) {
        // The deployment's fresh prefix is gone again.
        expect(report.run.target.redisPrefix).toMatch(/^buildflow-loadtest-[0-9a-f]+$/);
        expect(await countRedisKeys(report.run.target.redisPrefix)).toBe(0);
      }
    }, 180_000);
  }
});
