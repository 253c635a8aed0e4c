import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearerFor, saveLogin } from '../../src/cli/credentials.js';

let dir: string;
const before = process.env.BUILDFLOW_CONFIG_DIR;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'buildflow-cred-'));
  process.env.BUILDFLOW_CONFIG_DIR = dir;
  saveLogin({ url: 'http://127.0.0.1:3000', email: 'a@example.com', token: 'saved-token', expiresAt: '2099-01-01T00:00:00Z' });
});
afterEach(() => {
  if (before === undefined) delete process.env.BUILDFLOW_CONFIG_DIR;
  else process.env.BUILDFLOW_CONFIG_DIR = before;
  rmSync(dir, { recursive: true, force: true });
});

describe('which credential the CLI sends', () => {
  const url = 'http://127.0.0.1:3000';
  const value = (flag: string | undefined, env: NodeJS.ProcessEnv) => bearerFor(url, flag, env)?.value;
  it('when a flag is given, then it wins over everything', () => {
    expect(value('flag-token', { BUILDFLOW_TOKEN: 't', BUILDFLOW_ADMIN_KEY: 'k' })).toBe('flag-token');
  });
  it('when only env vars are set, then BUILDFLOW_TOKEN beats BUILDFLOW_ADMIN_KEY, and both beat the saved login', () => {
    expect(value(undefined, { BUILDFLOW_TOKEN: 't', BUILDFLOW_ADMIN_KEY: 'k' })).toBe('t');
    expect(value(undefined, { BUILDFLOW_ADMIN_KEY: 'k' })).toBe('k');
  });
  it('when nothing else is set, then the saved login is used, but only for the server it came from', () => {
    expect(value(undefined, {})).toBe('saved-token');
    expect(bearerFor('http://127.0.0.1:4000', undefined, {})).toBeUndefined();
  });
  it('when the admin key and a saved login are both at hand, then the admin acts and the saved login is named as unused', () => {
    expect(bearerFor(url, undefined, { BUILDFLOW_ADMIN_KEY: 'admin-key-0123456789' })).toEqual({
      value: 'admin-key-0123456789',
      source: 'BUILDFLOW_ADMIN_KEY',
      identity: 'the admin (BUILDFLOW_ADMIN_KEY)',
      admin: true,
      unused: ['a@example.com (saved login)'],
    });
  });
  it('when only the saved login is at hand, then nothing is unused', () => {
    expect(bearerFor(url, undefined, {})).toMatchObject({ identity: 'a@example.com (saved login)', admin: false, unused: [] });
  });
  it('when --token holds the admin key, then it is known as the admin', () => {
    expect(bearerFor(url, 'admin-key-0123456789', { BUILDFLOW_ADMIN_KEY: 'admin-key-0123456789' })).toMatchObject({
      identity: 'the admin (--token)',
      admin: true,
      unused: ['a@example.com (saved login)'],
    });
  });
});
