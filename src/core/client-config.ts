import { BuildflowError } from './errors.js';

/** Where the CLI looks for the API when neither `--url` nor `BUILDFLOW_URL` says. */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
/** Seconds an ordinary request may wait for the server's answer: intake answers in milliseconds. */
export const DEFAULT_TIMEOUT_SECONDS = 5;
export const MAX_TIMEOUT_SECONDS = 3600;

/** What the HTTP commands need: where the API is and how long to wait for each answer. */
export interface ClientConfig {
  url: string;
  timeoutSeconds: number;
}

/**
 * Reads `BUILDFLOW_URL` and `BUILDFLOW_TIMEOUT` (seconds) with the flags on top, by hand rather
 * than through env-schema: loading env-schema and TypeBox costs more than a whole HTTP command may
 * take to start, and these two values are all such a command reads. The same variables and bounds
 * are in {@link ConfigSchema}, so `loadConfig` accepts and rejects the same values.
 * @throws BuildflowError CONFIG_INVALID naming the offending flag or variable.
 */
export function loadClientConfig(
  flags: { url?: string | undefined; timeout?: string | number | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const url = flags.url ?? (env.BUILDFLOW_URL || DEFAULT_API_URL);
  const rawTimeout = flags.timeout ?? (env.BUILDFLOW_TIMEOUT || undefined);
  const source = flags.timeout !== undefined ? '--timeout' : 'BUILDFLOW_TIMEOUT';
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  if (rawTimeout !== undefined) {
    const n = typeof rawTimeout === 'number' ? rawTimeout : /^\s*\d+(\.\d+)?\s*$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
      throw new BuildflowError('CONFIG_INVALID', `invalid configuration: ${source} must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}, not ${rawTimeout}`);
    }
    timeoutSeconds = n;
  }
  return { url, timeoutSeconds };
}
