import type { Command } from '@commander-js/extra-typings';
import { DATA_DIR_HELP } from '../setting-help.js';
import type { CheckStatus } from '../../core/doctor/check.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine, useColor } from '../output.js';
import { durationFlag } from '../duration-arg.js';
import { DEFAULTS } from '../../core/defaults.js';
import { formatDuration } from '../../core/duration.js';

// ANSI colours of each status, used only at a terminal without NO_COLOR.
const COLOR: Record<CheckStatus, string> = { ok: '32', warn: '33', fail: '31', skip: '90' };

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check a deployment: database, migrations, outbox backlog, stuck orders, stock vs ledger, Redis')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option(
      '--timeout <duration>',
      `bound on each connection, query and Redis command, e.g. 3s (default ${formatDuration(DEFAULTS.doctor.timeoutMs)})`,
      durationFlag({ flag: '--timeout', bareUnit: 'ms', minMs: DEFAULTS.doctor.minTimeoutMs, maxMs: DEFAULTS.doctor.maxTimeoutMs, to: 'ms' }),
    )
    .option('--accept <checks>', 'checks this deployment accepts knowingly, comma-separated: redis-persistence, redis-eviction (env BUILDFLOW_ACCEPT); reported as warnings')
    .option('--json', 'print { healthy, status, checks: [{ name, status, detail, data }] } as JSON')
    .addHelpText(
      'after',
      `
Reads the database (BUILDFLOW_DATABASE_URL, else the SQLite file in the data directory) without
migrating or creating it, and Redis when BUILDFLOW_REDIS_URL is set. Each check is ok, warn, fail
or skip (not configured, or a check it needs failed):
  database              fail when it cannot be opened or reached
  migrations            fail when any migration is not applied
  outbox-backlog        warn when the oldest due row has waited over BUILDFLOW_STUCK_AFTER_MS,
                        fail over 10 times that
  workers               fail at once when work is due (pipeline messages, webhook deliveries,
                        emails) and no live worker has the role that takes it, naming the gone
                        ones; warn when a worker is gone without a successor. A worker is gone
                        after three missed heartbeats, or at once when its pid on this host died
  stuck-orders          warn when an order sat in pending/reserved/paid over BUILDFLOW_STUCK_AFTER_MS,
                        fail when the oldest sat over 10 times that
  stock-reconciliation  fail when on_hand or reserved disagree with the stock ledger
  money-reconciliation  fail naming the orders whose payment ledger does not add up (refunded over
                        captured, captured over authorized, a settled order charged other than its
                        total, a cancelled one not refunded and voided in full)
  redis                 fail when Redis cannot be reached
  redis-persistence     fail unless appendonly is yes (a restart would lose queued jobs)
  redis-eviction        fail unless maxmemory-policy is noeviction (a full Redis would drop jobs)
Redis settings come from CONFIG GET, or INFO where CONFIG is refused; unreadable: warn.
A deployment may accept redis-persistence and redis-eviction knowingly (development, staging):
--accept or BUILDFLOW_ACCEPT turns their failure into a warning; the dashboard honours the
server's BUILDFLOW_ACCEPT the same way.

Exit codes: 0 healthy (warnings allowed), 9 unhealthy (a check failed), 2 invalid configuration.

Examples:
  $ buildflow doctor
  $ buildflow doctor --data-dir /var/lib/buildflow --json
  $ buildflow doctor --accept redis-persistence
  $ BUILDFLOW_DATABASE_URL=postgres://db.internal/shop BUILDFLOW_REDIS_URL=redis://cache:6379 buildflow doctor
  $ buildflow doctor --json | jq -r '.checks[] | select(.status == "fail") | .detail'`,
    )
    .action(async (opts) => {
      const [{ loadConfig }, { runDoctor }] = await Promise.all([import('../../core/config.js'), import('../../core/doctor/run-doctor.js')]);
      const config = loadConfig({ BUILDFLOW_DATA_DIR: opts.dataDir, BUILDFLOW_ACCEPT: opts.accept });
      const report = await runDoctor(config, { timeoutMs: opts.timeout });

      if (opts.json) {
        printJson(report);
      } else {
        const color = useColor();
        const nameWidth = Math.max(...report.checks.map((c) => c.name.length));
        for (const check of report.checks) {
          const status = check.status.padEnd(4);
          printLine(`${color ? `\u001b[${COLOR[check.status]}m${status}\u001b[0m` : status}  ${check.name.padEnd(nameWidth)}  ${check.detail}`);
        }
        const warnings = report.checks.filter((c) => c.status === 'warn').length;
        if (report.healthy) printLine(warnings === 0 ? 'healthy' : `healthy, with ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`);
      }
      if (!report.healthy) {
        const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
        throw new CliError('UNHEALTHY', `unhealthy: ${failed.length} ${failed.length === 1 ? 'check' : 'checks'} failed (${failed.join(', ')})`, {
          exitCode: ExitCode.UNHEALTHY,
          dataPrinted: true,
        });
      }
    });
}
