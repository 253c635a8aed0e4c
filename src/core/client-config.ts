import { DURATION_EXPECTED, parseDuration } from './duration.js';
import { BuildflowError } from './errors.js';
import { SETTINGS, readSetting } from './settings.js';

/** What the HTTP commands need: where the API is and how long to wait for each answer. */
export interface ClientConfig {
  url: string;
  timeoutSeconds: number;
}

/**
 * Reads `BUILDFLOW_URL` and `BUILDFLOW_TIMEOUT` with the flags on top, by hand rather than through
 * env-schema: loading env-schema and TypeBox costs more than a whole HTTP command may take to start,
 * and these two values are all such a command reads. Both settings, with their defaults and bounds,
 * are the settings tree's (settings.ts), so `loadConfig` accepts and rejects the same values. A
 * `--timeout` flag arrives already parsed (seconds); the variable is a duration, a bare number seconds.
 * @throws BuildflowError CONFIG_INVALID naming the offending flag or variable.
 */
export function loadClientConfig(
  flags: { url?: string | undefined; timeout?: string | number | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const url = flags.url ?? readSetting('BUILDFLOW_URL', env) ?? SETTINGS.url.default;
  const spec = SETTINGS.timeoutMs;
  const raw = flags.timeout ?? readSetting('BUILDFLOW_TIMEOUT', env) ?? spec.default;
  const source = flags.timeout !== undefined ? '--timeout' : 'BUILDFLOW_TIMEOUT';
  const ms = typeof raw === 'number' ? raw * 1000 : parseDuration(raw, spec.bareUnit);
  if (ms === undefined || !Number.isFinite(ms) || ms < spec.min || ms > spec.max) {
    throw new BuildflowError('CONFIG_INVALID', `invalid configuration: ${source} must be above 0 and at most ${spec.max / 3_600_000}h, not ${raw} (${DURATION_EXPECTED})`);
  }
  return { url, timeoutSeconds: ms / 1000 };
}
