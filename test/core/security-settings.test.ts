import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { resolveTokenSecret } from '../../src/core/customers/token-secret.js';
import { hashPassword, verifyPassword } from '../../src/core/customers/password.js';
import { buildServer } from '../../src/server/build-server.js';
import { openTestApp, tempDataDir, type TestApp } from '../helpers/test-app.js';
import { ADMIN_KEY } from '../helpers/server.js';

const STRONG = 'q8Vn2Lx0aZ7pT4mRk1Wc9Yh3Bs6Ud5Ge';

describe('security settings', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await openTestApp();
  });
  afterAll(async () => app?.dispose());

  it('when production runs without a token secret, with a weak one or with a low scrypt cost, then the server refuses to start', async () => {
    const prod = { ...app.config, env: 'production' as const, scryptCost: 2 ** 17 };
    for (const tokenSecret of [undefined, 'short', 'a'.repeat(64), 'abababababababababababababababab12']) {
      await expect(buildServer({ ...app, config: prod }, { adminKey: ADMIN_KEY, ...(tokenSecret ? { tokenSecret } : {}) })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
    await expect(buildServer({ ...app, config: { ...prod, scryptCost: 1024 } }, { adminKey: ADMIN_KEY, tokenSecret: STRONG })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const ok = await buildServer({ ...app, config: prod }, { adminKey: ADMIN_KEY, tokenSecret: STRONG });
    await ok.close();
    const err = await buildServer({ ...app, config: prod }, { adminKey: ADMIN_KEY, tokenSecret: 'weak-secret-value' }).catch((e: Error) => e);
    expect((err as Error).message).not.toContain('weak-secret-value');
  });

  it('when development has no token secret, then one is generated into the data dir (0600) and reused', () => {
    const { dir, cleanup } = tempDataDir();
    try {
      const config = loadConfig({ BUILDFLOW_DATA_DIR: dir }, {});
      const first = resolveTokenSecret(config);
      expect(first.source).toBe('file');
      expect(existsSync(join(dir, 'token-secret'))).toBe(true);
      expect(statSync(join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
      expect(resolveTokenSecret(config).secret).toBe(first.secret);
      expect(() => resolveTokenSecret(loadConfig({ BUILDFLOW_DATA_DIR: dir, BUILDFLOW_ENV: 'production' }, {}))).toThrow(/BUILDFLOW_TOKEN_SECRET/);
    } finally {
      cleanup();
    }
  });

  it('when passwords are hashed, then the default cost is OWASP scrypt N=2^17, r=8, p=1 and verification works', async () => {
    expect(loadConfig({}, {}).scryptCost).toBe(2 ** 17);
    expect(() => loadConfig({ BUILDFLOW_SCRYPT_COST: 3000 }, {})).toThrow(/power of two/);
    const hash = await hashPassword('pässword one', 1024);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('pässword one', hash)).toBe(true);
    expect(await verifyPassword('password one', hash)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });

  it('when hashing at the OWASP cost, then the event loop keeps turning', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    await hashPassword('a password', 2 ** 17);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(2);
  });
});
