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
  it('when a flag is given, then it wins over everything', () => {
    expect(bearerFor(url, 'flag-token', { BUILDFLOW_TOKEN: 't', BUILDFLOW_ADMIN_KEY: 'k' })).toBe('flag-token');
  });
  it('when only env vars are set, then BUILDFLOW_TOKEN beats BUILDFLOW_ADMIN_KEY, and both beat the saved login', () => {
    expect(bearerFor(url, undefined, { BUILDFLOW_TOKEN: 't', BUILDFLOW_ADMIN_KEY: 'k' })).toBe('t');
    expect(bearerFor(url, undefined, { BUILDFLOW_ADMIN_KEY: 'k' })).toBe('k');
  });
  it('when nothing else is set, then the saved login is used, but only for the server it came from', () => {
    expect(bearerFor(url, undefined, {})).toBe('saved-token');
    expect(bearerFor('http://127.0.0.1:4000', undefined, {})).toBeUndefined();
  });
});
