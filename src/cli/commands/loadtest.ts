import { Option, type Command } from '@commander-js/extra-typings';
import { intArg } from '../parse.js';
import { stagesArg } from '../loadtest/generator/arrival-schedule.js';
import { toleranceArg } from '../loadtest/report/compare.js';
import { collect, durationArg, positiveArg, shareArg } from '../loadtest/units.js';

const THRESHOLD_HELP = `
Thresholds (each missed one exits 10; a threshold naming an unknown metric exits 2):
  --max-p99 50ms          intake.p99<=50ms
  --min-rps 1000          intake.rps>=1000
  --max-error-rate 0.1%   errors.rate<=0.001
  --max-e2e-p99 2s        e2e.p99<=2s   (placed → final)
  --threshold EXPR        METRIC<OP>VALUE, OP one of < <= > >= ==, on any metric of the JSON
                          report's "metrics": intake.|read.|e2e. p50 p90 p95 p99 max mean (a
                          duration: 20ms, 1.5s), intake.rps, read.rps, requests.rps, *.count,
                          errors.rate (0.1% or 0.001), errors.5xx, errors.503, errors.network,
                          orders.accepted|confirmed|cancelled, late.count, dropped.count, generator.busy`;

const EXIT_HELP = `Exit codes: 0 all passed, 10 a threshold missed, 12 worse than the baseline past a tolerance
(compare, --baseline), 11 a check failed (11 wins over 12, 12 over 10), 2 usage (also an output
file that cannot be written, found before the load starts, and runs of different workloads),
3 (check) none of the history's orders exist at --url, 4 an unreadable history or report,
5 target unreachable or set-up still failing after retries, 1 only for a bug in loadtest itself.`;

/** The workload mix, each a share from 0 to 1 (`--retry-share 0.1` or `10%`): of the orders sent, or of all operations. */
const SHARE_OPTIONS: readonly (readonly [flag: string, help: string])[] = [
  ['--retry-share', 'orders sent again with the same Idempotency-Key, half of them concurrently (default 0.05)'],
  ['--cancel-share', 'accepted orders the customer cancels at once (default 0.05)'],
  ['--read-share', 'operations that are reads: product get/list, order get (default 0.2)'],
  ['--refund-share', 'accepted orders the admin refunds in part (30 % of the total) once confirmed (default 0)'],
  ['--cancel-paid-share', 'accepted orders the admin cancels once payment has started, before shipment: the capture refunded or the authorization voided (default 0)'],
  ['--return-share', 'after the load settles, confirmed orders the admin ships, takes one unit back from (`return` and `receive`) and refunds (default 0)'],
];

function addShareOptions<T extends Command<any, any, any>>(cmd: T): T {
  for (const [flag, help] of SHARE_OPTIONS) cmd.option(`${flag} <share>`, help, shareArg);
  return cmd;
}

function addBaselineOptions<T extends Command<any, any, any>>(cmd: T): T {
  cmd
    .option('--tolerance <share>', 'how much worse than the baseline a metric may be: 10% (default) for rates and latencies, or METRIC=SHARE for one metric (intake.p99=20%, outcomes=5% in points, errors.rate=0.5%) (repeatable)', toleranceArg)
    .option('--force', 'compare runs of different workloads (seed, mix, load model) anyway');
  return cmd;
}

function addReportOptions<T extends Command<any, any, any>>(cmd: T): T {
  cmd
    .option('--max-p99 <duration>', 'threshold: intake p99 at most this', durationArg)
    .option('--min-rps <n>', 'threshold: intake requests per second at least this', positiveArg)
    .option('--max-error-rate <share>', 'threshold: errors at most this share of requests (0.1% or 0.001)', shareArg)
    .option('--max-e2e-p99 <duration>', 'threshold: placed → final p99 at most this', durationArg)
    .option('--threshold <expr>', 'threshold on any metric, e.g. intake.p95<20ms (repeatable)', collect)
    .option('--settle-timeout <duration>', 'how long to wait for every accepted order to be final and notified (default 60s)', durationArg)
    .option('--json', 'print the report as JSON (schema: buildflow loadtest schema)')
    .option('--junit <file>', 'write each check and threshold as a JUnit test case')
    .option('--report <file>', 'write a self-contained HTML report with charts');
  return cmd;
}

export function registerLoadtest(program: Command): void {
  const loadtest = addShareOptions(
    program
      .command('loadtest')
      .description('load a deployment, then check that no accepted order was lost, oversold, charged twice or left stuck')
      // `loadtest check` has options of the same names as loadtest's: each belongs to the command it follows.
      .enablePositionalOptions()
      .option('--url <url>', 'a running deployment (with --admin-key); without it loadtest starts one of its own')
      .option('--admin-key <key>', 'admin key of the --url deployment, for set-up and checks (env BUILDFLOW_ADMIN_KEY)')
      .addOption(new Option('--backend <backend>', 'deployment to start: sqlite (embedded), postgres, postgres+redis (BUILDFLOW_DATABASE_URL / BUILDFLOW_REDIS_URL)').choices(['sqlite', 'postgres', 'postgres+redis'] as const).default('sqlite' as const))
      .option('--servers <n>', 'serve processes to start (postgres backends; default 1)', intArg(1, 16))
      .option('--workers <m>', 'worker processes to start (default: sqlite 0 = workers inside serve, 1 with --chaos worker-kill; postgres 1)', intArg(0, 16))
      .option('--keep', 'keep the started deployment\u2019s data directory and Redis keys')
      .option('--connections <c>', 'closed loop: concurrent connections (default 16); open loop: most requests in flight (default 256)', intArg(1, 4096))
      .option('--rate <r>', 'open loop: operations per second at a constant arrival rate (latency from each scheduled send)', positiveArg)
      .option('--duration <duration>', 'how long to send, after the warm-up (default 10s)', durationArg)
      .option('--orders <n>', 'stop after placing this many orders instead', intArg(1))
      .option('--warmup <duration>', 'sent first and left out of the statistics (default 0s)', durationArg)
      .option('--seed <s>', 'seed of the workload mix (default random; printed and in the history)', intArg(0, 2 ** 31 - 1))
      .option('--customers <n>', 'signed-up customers, each with a token (default 20)', intArg(1, 10_000))
      .option('--hot-stock <k>', 'the k hottest products get only --hot-units each, so many orders end out_of_stock (default: one product drawn for ~1.6% of order lines, so a few % do)', intArg(0, 10_000))
      .option('--hot-units <n>', 'stock of each hot product (default 20)', intArg(0)),
  )
    .option('--chaos <spec>', 'worker-kill[:every=5s], server-kill or redis-flush, on a started deployment (repeatable)', collect)
    .option('--history <file>', 'write every request (key, status, order id, times) as JSON lines, for `loadtest check`')
    .option('--stages <list>', 'open loop in stages DURATION:RATE,… each ramping linearly to its rate from the last (the first from 0), e.g. 30s:100,1m:400,30s:0', stagesArg)
    .option('--find-knee', 'ramp (--stages, or 0 → --rate over --duration, default 1000/s over 30s) until a ceiling threshold (latency, errors) breaks 3 s in a row; report the highest rate that held (exit 0 unless a check fails)')
    .option('--abort-on-fail', 'judge the thresholds each second; one broken 5 s in a row stops the load (which still settles and checks) and exits 10')
    .option('--baseline <report.json>', 'compare this run with an earlier --json report (its seed, mix and load model are the defaults); exit 12 when worse past --tolerance');
  addBaselineOptions(addReportOptions(loadtest)).addHelpText(
    'after',
    `
Without --url, loadtest starts a deployment of its own from this package in a temporary data
directory (removed afterwards unless --keep): --backend sqlite (embedded), or postgres /
postgres+redis on BUILDFLOW_DATABASE_URL (used as given) and BUILDFLOW_REDIS_URL (under a fresh
key prefix). Set-up sets the stock of every product (ample, except the scarce ones) and has
--customers customers with tokens: point --url only at a deployment meant for testing. Against a
--url, its customers are kept (BUILDFLOW_LOADTEST_CACHE_DIR, default ~/.cache/buildflow/loadtest)
and reused by the next run, so repeated runs are not throttled by the sign-in limit. Set-up and
check requests are retried on 5xx and lost connections (about 6 s in all) before exit 5.

The generator runs in a thread of its own with keep-alive connections (undici Pool); the report
prints how busy it was. Closed loop (default): --connections callers back to back. Open loop
(--rate): a constant arrival rate; latency counts from each request's scheduled send time
(coordinated omission corrected), late and dropped requests are counted.

After the load, loadtest waits for every accepted order to settle, then checks (✓/✗ with the
count and the first, worst and last violation): accepted-orders-final, one-order-per-key,
no-oversell, stock-matches-ledger, charged-once, one-notification-per-event, no-5xx (503 and
refused connections allowed only during chaos), doctor (started deployments), stock-reads-consistent, money-reconciles (started deployments: every order of the run adds up
by DESIGN.md's "Money" once its refunds and voids have settled).
${THRESHOLD_HELP}

${EXIT_HELP}
A progress line is shown only on a terminal (not with --json or CI). Every report gives the share
of accepted orders that ended each way (confirmed, out_of_stock …) beside the throughput.

Examples:
  $ buildflow loadtest --duration 10s --chaos worker-kill --max-p99 200ms
  $ buildflow loadtest --rate 300 --duration 30s --warmup 5s --threshold 'intake.p95<50ms' --json
  $ buildflow loadtest --seed 7 --json > main.json; buildflow loadtest --baseline main.json --tolerance intake.p99=20%
  $ buildflow loadtest --stages 30s:100,1m:400,30s:0 --report ramp.html
  $ buildflow loadtest --find-knee --rate 2000 --duration 1m --max-p99 200ms
  $ BUILDFLOW_DATABASE_URL=postgres://127.0.0.1/lt BUILDFLOW_REDIS_URL=redis://127.0.0.1:6379 \\
      buildflow loadtest --backend postgres+redis --servers 2 --workers 2 --chaos worker-kill --chaos redis-flush
  $ buildflow loadtest --url http://staging:3000 --admin-key "$KEY" --history run.jsonl --junit loadtest.xml
  $ buildflow loadtest check run.jsonl --url http://staging:3000 --admin-key "$KEY"`,
  );
  loadtest.action(async (opts) => {
    const { executeLoadtest } = await import('../loadtest/execute.js');
    await executeLoadtest(opts);
  });

  addReportOptions(
    loadtest
      .command('check')
      .description('check a deployment again against the requests of a history file (from --history)')
      .argument('<history>', 'history file written by loadtest --history')
      .requiredOption('--url <url>', 'the deployment the history ran against')
      .option('--admin-key <key>', 'its admin key (env BUILDFLOW_ADMIN_KEY)'),
  )
    .addHelpText(
      'after',
      `
Settles and runs the same checks as the load test (doctor is skipped: it needs the deployment's
database), and recomputes the metrics and thresholds from the history. Exit codes as loadtest;
3 when none of the history's orders exist at --url (not the deployment it ran against).

Examples:
  $ buildflow loadtest check run.jsonl --url http://127.0.0.1:3000 --admin-key "$KEY"
  $ buildflow loadtest check run.jsonl --url http://127.0.0.1:3000 --json | jq '.checks[] | select(.status == "fail")'`,
    )
    .action(async (file, opts) => {
      const { executeCheck } = await import('../loadtest/execute.js');
      await executeCheck(file, opts);
    });

  addBaselineOptions(
    loadtest
      .command('compare')
      .description('compare two loadtest --json reports: exit 12 when the second is worse than the first past a tolerance')
      .argument('<base>', 'the baseline report (loadtest --json)')
      .argument('<new>', 'the report to judge')
      .option('--json', 'print the comparison as JSON')
      .option('--junit <file>', 'write each compared metric and check as a JUnit test case')
      .option('--report <file>', 'write the comparison as an HTML page'),
  )
    .addHelpText(
      'after',
      `
Each metric's change is shown beside the run-to-run noise the runs' per-second figures give.
Fails (exit 12) when intake/request/read throughput fell, or a latency percentile (intake, read,
placed → final) rose, by more than the tolerance (10%; latency rises under 1 ms never count);
when errors.rate rose by more than 0.5 points or an outcome's share (confirmed, out_of_stock …)
moved by more than 5 points; or when a check that passed in the baseline failed. Runs of
different workloads (seed, mix, load model) are refused (exit 2) unless --force.

Examples:
  $ buildflow loadtest compare main.json branch.json
  $ buildflow loadtest compare main.json branch.json --tolerance 15% --tolerance intake.p99=30% --junit compare.xml`,
    )
    .action(async (base, next, opts) => {
      const { executeCompare } = await import('../loadtest/execute.js');
      await executeCompare(base, next, opts);
    });

  loadtest
    .command('schema')
    .description('print the JSON Schema of the --json report')
    .action(async () => {
      const [{ ReportSchema }, { printJson }] = await Promise.all([import('../loadtest/report/report-schema.js'), import('../output.js')]);
      printJson(ReportSchema);
    });
}
