import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

export interface AdminKey {
  key: string;
  /** Where the key came from: the environment, or a file in the data directory. */
  source: 'env' | 'file';
  /** The file holding a generated key (also set when it was generated just now). */
  file?: string;
  generated: boolean;
}

/**
 * The admin bearer key: `BUILDFLOW_ADMIN_KEY` when set; otherwise the key kept in
 * `<data dir>/admin-key`, generated on first use and readable only by its owner (0600).
 */
export function resolveAdminKey(config: Config): AdminKey {
  if (config.adminKey) return { key: config.adminKey, source: 'env', generated: false };
  const file = join(config.dataDir, 'admin-key');
  try {
    const key = readFileSync(file, 'utf8').trim();
    if (key.length >= 16) return { key, source: 'file', file, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created the file first; then use theirs.
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveAdminKey(config);
    throw err;
  }
  chmodSync(file, 0o600);
  return { key, source: 'file', file, generated: true };
}
