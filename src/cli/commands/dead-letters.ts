import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import type { BulkResult, DeadLetterFilter } from '../../core/pipeline/dead-letter-bulk.js';
import { CliError } from '../cli-error.js';
import { DATA_DIR_HELP } from '../setting-help.js';
import { formatCents, printJson, printLine, printTable } from '../output.js';
import { intArg } from '../parse.js';

/** `--since` / `--until`: an ISO 8601 time, or a duration ago such as 30m, 2h or 1d. */
function timeArg(value: string): number {
  const ago = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (ago) return Date.now() - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 time (2026-12-07T01:00:00Z) or a duration ago (30m, 2h, 1d)');
  return ms;
}

interface BulkFlags {
  step?: string | undefined;
  reason?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  order?: string | undefined;
  all?: true | undefined;
  dryRun?: true | undefined;
  dataDir?: string | undefined;
  json?: true | undefined;
}

function filterOf(opts: BulkFlags): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (opts.step !== undefined) f.step = opts.step;
  if (opts.reason !== undefined) f.reason = opts.reason;
  if (opts.since !== undefined) f.since = opts.since;
  if (opts.until !== undefined) f.until = opts.until;
  if (opts.order !== undefined) f.order = opts.order;
  if (opts.all) f.all = true;
  return f;
}

function printBulk(r: BulkResult): void {
  const verb = r.action === 'retry' ? (r.dryRun ? 'would re-drive' : 're-drove') : r.dryRun ? 'would discard' : 'discarded';
  printTable(
    ['id', 'order', 'step', 'order status', 'stock held', 'captured', 'last error'],
    r.items.map((i) => [i.id, i.reference, i.step, i.orderStatus, i.stockHeld, formatCents(i.capturedCents), (i.lastError ?? '').slice(0, 60)]),
  );
  printLine(
    `${verb} ${r.count} dead ${r.count === 1 ? 'letter' : 'letters'}: their orders hold ${r.stockHeld} ${r.stockHeld === 1 ? 'unit' : 'units'} of stock and ${formatCents(r.capturedCents)} captured${r.dryRun ? ' (dry run: nothing changed)' : ''}`,
  );
}

/** The filter flags `retry` and `discard` share. */
function withFilters<C extends Command<any, any>>(c: C): C {
  return c
    .option('--step <step>', 'only dead letters of this step (reserve, pay, confirm, refund, ship, deliver)')
    .option('--reason <text>', 'only those whose last error contains this text (case-insensitive)')
    .option('--since <time>', 'only those dead at or after this time (ISO 8601, or 30m, 2h, 1d ago)', timeArg)
    .option('--until <time>', 'only those dead before this time (ISO 8601, or 30m, 2h, 1d ago)', timeArg)
    .option('--order <idOrReference>', "only this order's")
    .option('--all', 'every dead letter')
    .option('--dry-run', 'print what would happen (orders, steps, stock and money involved) and change nothing')
    .option('--data-dir <dir>', DATA_DIR_HELP) as C;
}

async function bulk(action: 'retry' | 'discard', opts: BulkFlags): Promise<void> {
  const f = filterOf(opts);
  const [{ withDeployment }, { bulkDeadLetters, hasFilter }] = await Promise.all([import('../database.js'), import('../../core/pipeline/dead-letter-bulk.js')]);
  if (!hasFilter(f)) throw new CliError('USAGE', `name the dead letters to ${action}: an id, or --step, --reason, --since, --until, --order, or --all`);
  const result = await withDeployment(opts.dataDir, (_db, _applied, units) => bulkDeadLetters(units, action, f, opts.dryRun ?? false));
  if (opts.json) return printJson(result);
  printBulk(result);
}

export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description('inspect, re-drive and discard pipeline messages that ran out of attempts (on the database)')
    .addHelpText(
      'after',
      `
Reads an existing deployment and never creates one: no database in the data directory (or one
never migrated) exits 9 with doctor's words; a Postgres that cannot be reached exits 5.
A dead letter's order was compensated and cancelled when it died, if the pipeline still owed it
work; re-driving resumes an order only where its status still calls for a step.
Also over HTTP: POST /v1/admin/dead-letters/retry and /discard (admin).

Examples:
  $ buildflow dead-letters list
  $ buildflow dead-letters list --json | jq -r '.[].id'
  $ buildflow dead-letters retry 42
  $ buildflow dead-letters retry --step pay --reason timeout --since 2h --dry-run
  $ buildflow dead-letters discard --until 2026-12-01T00:00:00Z`,
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

  withFilters(
    deadLetters
      .command('retry')
      .description('put dead letters back in the queue with a fresh attempt budget: one by id, or all a filter matches')
      .argument('[id]', 'dead letter id (from `dead-letters list`)', intArg(1))
      .option('--json', 'print { id, status } (by id) or { action, dryRun, count, stockHeld, capturedCents, items } as JSON'),
  )
    .addHelpText(
      'after',
      `
A running worker picks the messages up on its next poll. Safe to run whatever happened since:
pipeline steps are guarded by the order's status. Exits 3 when nothing matched.

Examples:
  $ buildflow dead-letters retry 42
  $ buildflow dead-letters retry --step pay --dry-run
  $ buildflow dead-letters retry --reason "gateway timeout" --since 2h
  $ buildflow dead-letters retry --order BF-00000042`,
    )
    .action(async (id, opts) => {
      if (id === undefined) return bulk('retry', opts as BulkFlags);
      if (hasAny(opts as BulkFlags)) throw new CliError('USAGE', 'give an id or filters, not both');
      const [{ withDeployment }, { redriveDeadLetter }] = await Promise.all([import('../database.js'), import('../../core/outbox/dead-letters.js')]);
      await withDeployment((opts as BulkFlags).dataDir, (_db, _applied, units) => redriveDeadLetter(units, id));
      if (opts.json) printJson({ id, status: 'pending' });
      else printLine(`dead letter ${id} is queued again`);
    });

  withFilters(
    deadLetters
      .command('discard')
      .description('take dead letters a filter matches out of the dead letters; their rows stay as the orders\' history')
      .option('--json', 'print { action, dryRun, count, stockHeld, capturedCents, items } as JSON'),
  )
    .addHelpText(
      'after',
      `
A discarded message keeps its row with status "discarded": \`order trace\` still shows it. Exits 3
when nothing matched.

Examples:
  $ buildflow dead-letters discard --step refund --dry-run
  $ buildflow dead-letters discard --all`,
    )
    .action(async (opts) => bulk('discard', opts as BulkFlags));
}

function hasAny(opts: BulkFlags): boolean {
  return [opts.step, opts.reason, opts.since, opts.until, opts.order, opts.all, opts.dryRun].some((v) => v !== undefined);
}
