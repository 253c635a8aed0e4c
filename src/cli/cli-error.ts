import { isBuildflowError } from '../core/errors.js';
import { ExitCode, exitCodeFor, type ExitCodeValue } from './exit-codes.js';

/** A failure the CLI reports as one line and an exit code; `message` is safe to print. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  /** The command already printed its data (e.g. the cancelled order); do not print a JSON error too. */
  readonly dataPrinted: boolean;
  /** The message is news rather than a failure (Ctrl-C during --wait): print it without "error: ". */
  readonly plain: boolean;
  /** The HTTP status of the answer this error reports, when it reports one. */
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { exitCode?: ExitCodeValue; status?: number; dataPrinted?: boolean; plain?: boolean } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? exitCodeFor(code, options.status);
    this.dataPrinted = options.dataPrinted ?? false;
    this.plain = options.plain ?? false;
    this.status = options.status;
  }
}

/** The first line of a message: errors are reported on one line. */
function oneLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}

/** Turns anything thrown by a command into a {@link CliError}; unknown errors become INTERNAL. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (isBuildflowError(err)) return new CliError(err.code, oneLine(err.message));
  const message = err instanceof Error ? err.message : String(err);
  return new CliError('INTERNAL', oneLine(message) || 'unexpected error', { exitCode: ExitCode.INTERNAL });
}
