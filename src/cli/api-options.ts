import { randomUUID } from 'node:crypto';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { MAX_PAGE_LIMIT } from '../core/pagination.js';
import { SETTINGS } from '../core/settings.js';
import type { ApiClient, ApiFlags } from './http-client.js';
import { durationFlag } from './duration-arg.js';
import { idempotencyKeyArg, intArg } from './parse.js';
import { envDefault, PAGE_LIMIT_HELP } from './setting-help.js';

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

/** `--url` and `--timeout`: how a command that calls the API reaches it (after the command's own options). */
export function serverOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd.option('--url <url>', URL_HELP).option('--timeout <duration>', TIMEOUT_HELP, timeoutArg);
}

/** {@link serverOptions} and `--token`: for a command that calls the API as someone (`tokenHelp` says who may). */
export function apiOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, tokenHelp = TOKEN_HELP) {
  return serverOptions(cmd).option('--token <token>', tokenHelp);
}

/**
 * `--idempotency-key` and then {@link apiOptions}: for a write the API does once per key, which a retry
 * can repeat safely. `never` says what a retry under the same key never does; the key sent without
 * the option is a new one ({@link idempotencyHeader}).
 */
export function idempotentApiOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, never: string) {
  return apiOptions(cmd.option('--idempotency-key <key>', `retrying with the same key never ${never} (default: a new key)`, idempotencyKeyArg));
}

/** The header of a write given `--idempotency-key` (a new key when none was given). */
export function idempotencyHeader(key: string | undefined): { 'idempotency-key': string } {
  return { 'idempotency-key': key ?? randomUUID() };
}

/** `--limit` and `--cursor` of a list command that prints one page at a time. */
export function pageOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--limit <n>', PAGE_LIMIT_HELP, intArg(1, MAX_PAGE_LIMIT))
    .option('--cursor <cursor>', 'continue after the page that printed this cursor');
}
