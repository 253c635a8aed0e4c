import type { Config } from '../config.js';
import { BuildflowError } from '../errors.js';
import { readOrCreateSecretFile } from '../secret-file.js';

/** Shortest accepted token secret, and fewest distinct characters (rejects `aaaa…`, `abab…`). */
export const MIN_SECRET_LENGTH = 32;
const MIN_DISTINCT_CHARS = 12;
/** scrypt cost below which production refuses to start (OWASP minimum). */
export const MIN_PRODUCTION_SCRYPT_COST = 2 ** 17;

/** True when a secret is long and varied enough to key the token HMAC. */
export function isStrongSecret(secret: string | undefined): secret is string {
  return typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH && new Set(secret).size >= MIN_DISTINCT_CHARS;
}

/**
 * Checks the security settings of a deployment. In production a missing or weak
 * `BUILDFLOW_TOKEN_SECRET`, or a scrypt cost below the OWASP minimum, is refused.
 * @throws BuildflowError CONFIG_INVALID naming the setting (never its value).
 */
export function assertSecuritySettings(config: Config, secret: string | undefined): void {
  if (config.env !== 'production') return;
  if (!isStrongSecret(secret)) {
    throw new BuildflowError(
      'CONFIG_INVALID',
      `BUILDFLOW_TOKEN_SECRET is missing or weak: production needs at least ${MIN_SECRET_LENGTH} varied characters (e.g. openssl rand -base64 48)`,
    );
  }
  if (config.scryptCost < MIN_PRODUCTION_SCRYPT_COST) {
    throw new BuildflowError('CONFIG_INVALID', `BUILDFLOW_SCRYPT_COST must be at least ${MIN_PRODUCTION_SCRYPT_COST} in production`);
  }
}

export interface TokenSecret {
  secret: string;
  source: 'env' | 'file';
  file?: string;
}

/**
 * The key under which sign-in tokens are stored: `BUILDFLOW_TOKEN_SECRET`; in development, when it
 * is unset, a secret generated once into `<data dir>/token-secret` (0600), so tokens survive restarts.
 * @throws BuildflowError CONFIG_INVALID in production when the secret is missing or weak.
 */
export function resolveTokenSecret(config: Config): TokenSecret {
  assertSecuritySettings(config, config.tokenSecret);
  if (config.tokenSecret) {
    if (!isStrongSecret(config.tokenSecret)) {
      throw new BuildflowError('CONFIG_INVALID', `BUILDFLOW_TOKEN_SECRET is weak: use at least ${MIN_SECRET_LENGTH} varied characters`);
    }
    return { secret: config.tokenSecret, source: 'env' };
  }
  const { value, file } = readOrCreateSecretFile(config.dataDir, 'token-secret', 48, isStrongSecret);
  return { secret: value, source: 'file', file };
}
