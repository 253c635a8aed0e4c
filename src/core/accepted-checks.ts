import { BuildflowError } from './errors.js';

/**
 * The checks a deployment may accept knowingly (BUILDFLOW_ACCEPT, `doctor --accept`): Redis
 * settings that risk queued jobs but that a development or staging deployment may choose to run
 * with. An accepted check that fails is reported as a warning by doctor, and the dashboard raises
 * no alert for it. Nothing about data (stock, migrations, workers) can be accepted.
 */
export const ACCEPTABLE_CHECKS = ['redis-persistence', 'redis-eviction'] as const;

export type AcceptableCheck = (typeof ACCEPTABLE_CHECKS)[number];

/**
 * Parses a comma-separated list of acceptable check names (`source` names the variable or flag).
 * @throws BuildflowError CONFIG_INVALID on a name that cannot be accepted.
 */
export function parseAcceptedChecks(value: string | undefined, source = 'BUILDFLOW_ACCEPT'): AcceptableCheck[] {
  if (value === undefined) return [];
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const name of names) {
    if (!(ACCEPTABLE_CHECKS as readonly string[]).includes(name)) {
      throw new BuildflowError('CONFIG_INVALID', `invalid configuration: ${source}: "${name}" cannot be accepted (acceptable: ${ACCEPTABLE_CHECKS.join(', ')})`);
    }
  }
  return [...new Set(names)] as AcceptableCheck[];
}
