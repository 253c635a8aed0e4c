import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../cli/harness.js';
import { BACKENDS, TEST_REDIS_URL, freshPostgresDatabase, usesPostgres, usesRedis } from '../helpers/backends.js';

let drop: (() => Promise<void>) | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

describe('loadtest --return-share', () => {
  for (const backend of BACKENDS) {
    it(`when a share of the confirmed orders is shipped, returned and received on ${backend}, then every one is refunded and doctor still reconciles stock and money`, async () => {
      const env: Record<string, string> = {};
      const args = ['loadtest', '--orders', '40', '--customers', '4', '--connections', '4', '--seed', '11', '--return-share', '0.25', '--settle-timeout', '60s'];
      if (usesPostgres(backend)) {
        const db = await freshPostgresDatabase();
        drop = db.drop;
        env.BUILDFLOW_DATABASE_URL = db.url;
        args.push('--backend', backend);
      }
      if (usesRedis(backend)) env.BUILDFLOW_REDIS_URL = TEST_REDIS_URL;
      const result = await runCli(args, { env });
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
