import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret kept in `<dir>/<name>`, readable only by its owner (0600): read when present and
 * accepted by `isValid`, otherwise generated from `bytes` random bytes. Safe when several
 * processes start at once: only one creates the file, the others read it.
 */
export function readOrCreateSecretFile(
  dir: string,
  name: string,
  bytes: number,
  isValid: (value: string) => boolean,
): { value: string; file: string; generated: boolean } {
  const file = join(dir, name);
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (isValid(value)) return { value, file, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(bytes).toString('base64url');
  try {
    // 'wx' fails if another process created the file first; then use theirs.
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateSecretFile(dir, name, bytes, isValid);
    throw err;
  }
  chmodSync(file, 0o600);
  return { value, file, generated: true };
}
