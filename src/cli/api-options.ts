import type { Command, OptionValues } from '@commander-js/extra-typings';
import { SETTINGS } from '../core/settings.js';
import type { ApiClient, ApiFlags } from './http-client.js';
import { envDefault } from './setting-help.js';
import { durationFlag } from './duration-arg.js';

export const URL_HELP = `API base URL (${envDefault('BUILDFLOW_URL')})`;
export const TIMEOUT_HELP = `how long to wait for each answer from the server, e.g. 5s or 500ms (${envDefault('BUILDFLOW_TIMEOUT')})`;
export const TOKEN_HELP = 'bearer credential; without it: BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY, else the saved login';

/**
 * A commander parser for `--timeout`: a duration ("5s", "500ms"), in seconds; the old bare number of
 * seconds still works, with a deprecation note.
 */
export const timeoutArg = durationFlag({
  flag: '--timeout',
  bareUnit: 's',
  minMs: SETTINGS.timeoutMs.min,
  maxMs: SETTINGS.timeoutMs.max,
  to: 's',
});

/**
 * The API client for a command's `--url`/`--timeout` (and, with `auth`, its credential). The HTTP
 * client is imported here, when a command runs, never when the command file is loaded.
 */
export async function apiClient(flags: ApiFlags, auth?: { token?: string | undefined }): Promise<ApiClient> {
  return (await import('./http-client.js')).clientFor(flags, auth);
}

/** Adds the options every command over the HTTP API takes: `--url`, `--timeout`, `--token`. */
export function withApiOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(command: Command<A, O, G>) {
  return command.option('--url <url>', URL_HELP).option('--timeout <duration>', TIMEOUT_HELP, timeoutArg).option('--token <token>', TOKEN_HELP);
}
