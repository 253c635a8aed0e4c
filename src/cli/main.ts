import { Command, CommanderError } from '@commander-js/extra-typings';
import { toCliError } from './cli-error.js';
import { registerCustomer, registerLogin } from './commands/customer.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDeadLetters } from './commands/dead-letters.js';
import { registerDoctor } from './commands/doctor.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOrder } from './commands/order.js';
import { registerProduct } from './commands/product.js';
import { registerSeed } from './commands/seed.js';
import { registerServe } from './commands/serve.js';
import { registerShipment } from './commands/shipment.js';
import { registerWorker } from './commands/worker.js';
import { ExitCode } from './exit-codes.js';
import { printError, printJson } from './output.js';
import { packageVersion } from './package-root.js';

/**
 * The commander program. Settings made before adding commands are inherited by them.
 * Command files import only light modules at the top and load the heavy ones (database, server,
 * HTTP client, config loader) inside their actions, so `--help` and `--version` answer at once.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('buildflow')
    .description('buildflow: durable order intake and an idempotent reserve → pay → confirm → notify pipeline')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Environment: BUILDFLOW_* variables (a flag beats an env var beats the default), NO_COLOR.
Credentials: --token, BUILDFLOW_TOKEN, the login saved by \`buildflow login\`, BUILDFLOW_ADMIN_KEY.
Exit codes: 0 ok, 1 internal, 2 usage, 3 not found, 4 rejected input, 5 unreachable/unavailable,
6 order cancelled (--wait), 7 unauthorized, 8 cannot listen, 9 unhealthy (doctor).

Examples:
  $ buildflow seed && buildflow serve
  $ buildflow product list
  $ printf '%s\\n' "$PASSWORD" | buildflow login --email ada@example.com
  $ buildflow order create --item PT-DRL-18V:1 --wait
  $ buildflow track TRK7K3M9QX2AB4C`,
    );
  registerServe(program);
  registerWorker(program);
  registerMigrate(program);
  registerSeed(program);
  registerProduct(program);
  registerCustomer(program);
  registerLogin(program);
  registerOrder(program);
  registerShipment(program);
  registerDeadLetters(program);
  registerDoctor(program);
  registerDashboard(program);
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
    const program = buildProgram();
    program.hook('preAction', (_program, action) => {
      json = action.opts().json === true;
    });
    await program.parseAsync([...argv]);
    return ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed help, the version or its one-line error already.
      if (err.exitCode === 0) return ExitCode.OK;
      if (json) printJson({ error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } });
      return ExitCode.USAGE;
    }
    const error = toCliError(err);
    printError(error, json);
    return error.exitCode;
  }
}
