import { InvalidArgumentError } from '@commander-js/extra-typings';
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from '../core/client-config.js';
import type { ApiClient, ApiFlags } from './http-client.js';

export const URL_HELP = 'API base URL (env BUILDFLOW_URL, default http://127.0.0.1:3000)';
export const TIMEOUT_HELP = `seconds to wait for each answer from the server (env BUILDFLOW_TIMEOUT, default ${DEFAULT_TIMEOUT_SECONDS})`;
export const TOKEN_HELP = 'bearer credential; without it: BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY, else the saved login';

/** A commander parser for `--timeout`: a positive number of seconds. */
export function secondsArg(value: string): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(`expected a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}`);
  }
  return n;
}

/**
 * The API client for a command's `--url`/`--timeout` (and, with `auth`, its credential). The HTTP
 * client is imported here, when a command runs, never when the command file is loaded.
 */
export async function apiClient(flags: ApiFlags, auth?: { token?: string | undefined }): Promise<ApiClient> {
  return (await import('./http-client.js')).clientFor(flags, auth);
}
