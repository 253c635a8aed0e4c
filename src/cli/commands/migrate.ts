import type { Command } from '@commander-js/extra-typings';
import { DATA_DIR_HELP } from '../setting-help.js';
import { printJson, printLine } from '../output.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (serve and worker also do this on start)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print { "applied": [names] } as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ buildflow migrate
  $ buildflow migrate --data-dir /var/lib/buildflow --json`,
    )
    .action(async (opts) => {
      const { withDatabase } = await import('../database.js');
      const applied = await withDatabase(opts.dataDir, async (_db, names) => names);
      if (opts.json) printJson({ applied });
      else if (applied.length === 0) printLine('database is up to date');
      else for (const name of applied) printLine(`applied ${name}`);
    });
}
