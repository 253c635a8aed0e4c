import type { Config } from './config.js';
import { readOrCreateSecretFile } from './secret-file.js';

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
  const { value, file, generated } = readOrCreateSecretFile(config.dataDir, 'admin-key', 32, (key) => key.length >= 16);
  return { key: value, source: 'file', file, generated };
}
