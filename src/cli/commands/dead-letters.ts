import type { Command } from '@commander-js/extra-typings';
import { DATA_DIR_HELP } from '../setting-help.js';
import { printJson, printLine, printTable } from '../output.js';
import { intArg } from '../parse.js';


export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description('inspect and re-drive pipeline messages that ran out of attempts (on the database, not over HTTP)')
    .addHelpText(
      'after',
      `
Reads an existing deployment and never creates one: no database in the data directory (or one
never migrated) exits 9 with doctor's words; a Postgres that cannot be reached exits 5.

Examples:
  $ buildflow dead-letters list
  $ buildflow dead-letters list --json | jq -r '.[].id'
  $ buildflow dead-letters retry 42`,
    );

  deadLetters
    .command('list')
    .description('list dead letters, newest first')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print the dead letters as a JSON array')
    .addHelpText('after', '\nExamples:\n  $ buildflow dead-letters list\n  $ buildflow dead-letters list --data-dir /var/lib/buildflow --json')
    .action(async (opts) => {
      const [{ withDeployment }, { listDeadLetters }] = await Promise.all([import('../database.js'), import('../../core/outbox/dead-letters.js')]);
      const letters = await withDeployment(opts.dataDir, (db) => listDeadLetters(db));
      if (opts.json) return printJson(letters);
      if (letters.length === 0) return printLine('no dead letters');
      printTable(
        ['id', 'topic', 'order id', 'attempts', 'dead at', 'last error'],
        letters.map((d) => [d.id, d.topic, d.orderId, d.attempts, d.deadAt ?? '', (d.lastError ?? '').slice(0, 80)]),
      );
    });

  deadLetters
    .command('retry')
    .description('put a dead letter back in the queue with a fresh attempt budget')
    .argument('<id>', 'dead letter id (from `dead-letters list`)', intArg(1))
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print { id, status } as JSON')
    .addHelpText(
      'after',
      `
A running worker picks the message up on its next poll. Safe to run whatever happened since:
pipeline steps are guarded by the order's status.

Examples:
  $ buildflow dead-letters retry 42`,
    )
    .action(async (id, opts) => {
      const [{ withDeployment }, { redriveDeadLetter }] = await Promise.all([import('../database.js'), import('../../core/outbox/dead-letters.js')]);
      await withDeployment(opts.dataDir, (_db, _applied, units) => redriveDeadLetter(units, id));
      if (opts.json) printJson({ id, status: 'pending' });
      else printLine(`dead letter ${id} is queued again`);
    });
}
