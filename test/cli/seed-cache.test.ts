import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, tempDir } from './harness.js';
import { BACKENDS, TEST_REDIS_URL, deleteRedisKeys, freshRedisPrefix, usesRedis } from '../helpers/backends.js';

beforeAll(() => assertBuilt());

describe.skipIf(!BACKENDS.some(usesRedis))('buildflow seed with Redis configured', () => {
  it('when the catalog is seeded, then the cached reads of its products are dropped and others are kept', async () => {
    const dir = tempDir();
    const { prefix } = freshRedisPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await redis.set(`${prefix}:product:PT-DRL-18V`, '{"sku":"PT-DRL-18V","unitPriceCents":1}', 'PX', 60_000);
      await redis.set(`${prefix}:product:NOT-IN-CATALOG`, '{}', 'PX', 60_000);
      const r = await runCli(['seed', '--data-dir', dir.dir], { env: { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: prefix } });
      expect(r.code).toBe(0);
      expect(await redis.exists(`${prefix}:product:PT-DRL-18V`)).toBe(0);
      expect(await redis.exists(`${prefix}:product:NOT-IN-CATALOG`)).toBe(1);
    } finally {
      redis.disconnect();
      await deleteRedisKeys(prefix);
      dir.remove();
    }
  });
});
