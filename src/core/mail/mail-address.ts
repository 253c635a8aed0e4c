import { BuildflowError } from '../errors.js';

// Deliberately loose: the SMTP server is the judge of an address; this catches typos and swapped settings.
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/**
 * Checks BUILDFLOW_MAIL_FROM: a bare address (`shop@example.com`) or a named one
 * (`Shop <shop@example.com>`).
 * @throws BuildflowError CONFIG_INVALID
 */
export function parseMailFrom(value: string): string {
  const trimmed = value.trim();
  const named = /^(.*)<([^<>]+)>$/.exec(trimmed);
  const address = named ? named[2]!.trim() : trimmed;
  if (!ADDRESS.test(address)) {
    throw new BuildflowError('CONFIG_INVALID', `invalid configuration: BUILDFLOW_MAIL_FROM "${value}" is not an email address`);
  }
  return trimmed;
}
