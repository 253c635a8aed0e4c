import { Command, CommanderError } from '@commander-js/extra-typings';
import { packageVersion } from '../core/package-info.js';
import { COMMANDS, commandNameIn, CREDENTIAL_RULE } from './command-index.js';
import { ExitCode } from './exit-codes.js';

/**
 * The commander program for a command line. Settings made before adding commands are inherited by
 * them. Start-up time is the product here (bench/cli-start.ts): only the command being run is
 * registered in full (see COMMANDS), the others are listed by name; command files import only light
 * modules at the top and load the heavy ones (database, server, config loader, Ink) inside their
 * actions. The build bundles this (rollup.config.js): everything reachable without a heavy module
 * is one file, so an HTTP command loads one file; the rest are chunks loaded by those dynamic
 * imports. test/cli/lazy-start.test.ts fails when a heavy module loads before an action needs it.
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command()
    .name('buildflow')
    .description('buildflow: durable order intake and an idempotent reserve → pay → confirm → notify pipeline')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    // Options belong to the command they follow (`loadtest check --url` is check's, not loadtest's).
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Environment: BUILDFLOW_* variables (a flag beats an env var beats the default), NO_COLOR.
${CREDENTIAL_RULE.replace(/^credentials/, 'Credentials')};
when several are at hand, the command says on stderr which identity acts.
Exit codes: 0 ok, 1 internal, 2 usage, 3 not found, 4 rejected input, 5 unreachable/unavailable
(also: not a buildflow API, no answer within --timeout), 6 order cancelled (--wait), 7 unauthorized,
8 cannot listen, 9 unhealthy (doctor), 10 thresholds missed and 11 checks failed (loadtest),
130 interrupted (Ctrl-C).

Examples:
  $ buildflow seed && buildflow serve
  $ buildflow product list
  $ printf '%s\\n' "$PASSWORD" | buildflow login --email ada@example.com
  $ buildflow order create --item PT-DRL-18V:1 --wait
  $ buildflow notification list`,
    );
  const wanted = commandNameIn(args);
  for (const entry of COMMANDS) {
    if (entry.name === wanted) (await entry.load())(program);
    else program.command(entry.name).description(entry.description);
  }
  return program;
}

/**
 * Runs the CLI on `argv` (as in `process.argv`) and returns the exit code; never exits by itself.
 * Data goes to stdout, errors to stderr as one line (and with --json also as JSON on stdout).
 */
export async function main(argv: readonly string[]): Promise<number> {
  // Until commander has parsed the command's own options, go by the raw arguments.
  let json = argv.includes('--json');
  try {
    const program = await buildProgram(argv.slice(2));
    program.hook('preAction', (_program, action) => {
      json = action.opts().json === true;
    });
    await program.parseAsync([...argv]);
    return ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed help, the version or its one-line error already.
      if (err.exitCode === 0) return ExitCode.OK;
      // Loaded only on the way out (unbundled: a command that succeeds never pays for the error path).
      const { printJson } = await import('./output.js');
      if (json) printJson({ error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } });
      return ExitCode.USAGE;
    }
    const [{ toCliError }, { printError }] = await Promise.all([import('./cli-error.js'), import('./output.js')]);
    const error = toCliError(err);
    printError(error, json);
    return error.exitCode;
  }
}
