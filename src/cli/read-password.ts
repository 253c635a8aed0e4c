import { readSetting } from '../core/settings.js';
import { CliError } from './cli-error.js';
import { readStdin } from './read-stdin.js';

/**
 * A password from BUILDFLOW_PASSWORD, else the first line piped on stdin. Never from a flag: the
 * command line is visible to every user of the machine (ps) and kept in shell history.
 */
export async function readPassword(): Promise<string> {
  const fromEnv = readSetting('BUILDFLOW_PASSWORD');
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) throw new CliError('USAGE', 'pipe the password on stdin or set BUILDFLOW_PASSWORD (it is never taken as a flag)');
  const line = (await readStdin()).split(/\r?\n/)[0] ?? '';
  if (line === '') throw new CliError('USAGE', 'no password: pipe it on stdin or set BUILDFLOW_PASSWORD');
  return line;
}
