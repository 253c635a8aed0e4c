import type { Command } from '@commander-js/extra-typings';
import { apiClient, serverOptions } from '../api-options.js';
import { durationFlag } from '../duration-arg.js';
import { formatDuration } from '../../core/duration.js';
import { SETTINGS } from '../../core/settings.js';

const INTERVAL = SETTINGS.dashboardIntervalMs;

export function registerDashboard(program: Command): void {
  serverOptions(program.command('dashboard').description('watch the pipeline live: queue depths per step, orders, rates, latency, workers, alerts (admin key)'))
    .option('--token <token>', 'the admin key (env BUILDFLOW_TOKEN or BUILDFLOW_ADMIN_KEY)')
    .option(
      '--interval <duration>',
      `time between polls, at least ${formatDuration(INTERVAL.min!)} (env ${INTERVAL.env}; default ${formatDuration(INTERVAL.default)})`,
      durationFlag({ flag: '--interval', bareUnit: 's', minMs: INTERVAL.min!, maxMs: INTERVAL.max!, to: 'ms' }),
    )
    .option('--once', 'print one plain-text snapshot and exit')
    .option('--json', 'print one snapshot as JSON and exit')
    .addHelpText(
      'after',
      `
Polls GET /v1/admin/stats, one request at a time. In a terminal it redraws in place; keys:
q quit, p pause, r refresh now, ? help, Tab orders/dead letters, ↑↓ and Enter an order's history,
s pause or resume a pipeline step for the deployment (asks which, then y to confirm; admin key).
Only s changes data, and only after y. Needs at least 80×24; NO_COLOR turns colour off.
Not a terminal (a pipe, CI), or --once: one plain snapshot, exit 0. Exit 5 when the server cannot
be reached (one-shot modes; the live view keeps retrying), 7 on bad credentials.

Examples:
  $ BUILDFLOW_ADMIN_KEY=$(cat .buildflow/admin-key) buildflow dashboard
  $ buildflow dashboard --url http://api.internal:3000 --interval 5s
  $ buildflow dashboard --once
  $ buildflow dashboard --json | jq '.topics[] | {topic, waiting, oldestWaitingMs}'`,
    )
    .action(async (opts) => {
      const [{ loadConfig }, { runDashboard }] = await Promise.all([
        import('../../core/config.js'),
        import('../dashboard/run-dashboard.js'),
      ]);
      const config = loadConfig(opts.interval === undefined ? {} : { BUILDFLOW_DASHBOARD_INTERVAL_MS: opts.interval });
      await runDashboard({ client: await apiClient(opts, { token: opts.token }), intervalMs: config.dashboardIntervalMs, once: opts.once === true, json: opts.json === true });
    });
}
