import type { Command } from '@commander-js/extra-typings';
import type { PipelineStatus, StepStatus } from '../../core/pipeline/pipeline-status.js';
import { argPath } from '../arg-path.js';
import { apiClient, apiOptions } from '../api-options.js';
import { printJson, printLine, printTable } from '../output.js';

const TOKEN_HELP = 'admin key (env BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY)';
const BOUND = 'Every worker obeys within 2 s: the paused steps are read at most once a second, plus one batch.';
const stepPath = (step: string, verb: string) => argPath(`/v1/admin/pipeline/{step}/${verb}`, { step: ['<step>', step] });
type Flags = { url?: string | undefined; timeout?: number | undefined; token?: string | undefined };
const api = (opts: Flags) => apiClient(opts, { token: opts.token });

/** The status table: one row per step. */
export function printPipeline(status: PipelineStatus): void {
  printTable(
    ['step', 'state', 'since', 'reason', 'waiting', 'stock held', 'oldest waiting since'],
    status.steps.map((s: StepStatus) => [s.step, s.paused ? 'PAUSED' : 'running', s.pausedAt ?? '', s.reason ?? '', s.waitingOrders, s.stockHeld, s.oldestWaitingSince ?? '']),
  );
}

export function registerPipeline(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description('pause, resume and inspect the order steps (admin, over HTTP)')
    .addHelpText(
      'after',
      `
Steps: reserve (pending orders), pay (reserved orders), confirm (paid orders). A paused step holds
orders at it with their status as it is; intake keeps answering 201 and the other steps go on.
While pay is paused reservations do not expire. The pause is stored in the database: a restart
does not lift it. ${BOUND}
Needs the admin key (--token, else BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY).

Examples:
  $ buildflow pipeline pause pay --reason "provider outage, INC-123"
  $ buildflow pipeline status
  $ buildflow pipeline resume pay`,
    );

  apiOptions(pipeline.command('status').description('each step: paused or not, since when, and the orders and stock waiting at it'), TOKEN_HELP)
    .option('--json', 'print { steps: [{ step, paused, reason, pausedAt, waitingOrders, stockHeld, oldestWaitingSince }] }')
    .addHelpText('after', '\nExamples:\n  $ buildflow pipeline status\n  $ buildflow pipeline status --json | jq \'.steps[] | select(.paused)\'')
    .action(async (opts) => {
      const status = await (await api(opts)).get<PipelineStatus>('/v1/admin/pipeline');
      if (opts.json) return printJson(status);
      printPipeline(status);
    });

  apiOptions(
    pipeline
      .command('pause')
      .description('pause a step for the whole deployment')
      .argument('<step>', 'reserve, pay or confirm')
      .option('--reason <text>', 'why, shown by `pipeline status` and the dashboard'),
    TOKEN_HELP,
  )
    .option('--json', 'print the pipeline status after the pause as JSON')
    .addHelpText('after', `\n${BOUND}\n\nExamples:\n  $ buildflow pipeline pause pay --reason "provider outage"`)
    .action(async (step, opts) => {
      const status = await (await api(opts)).post<PipelineStatus>(stepPath(step, 'pause'), opts.reason === undefined ? {} : { reason: opts.reason });
      if (opts.json) return printJson(status);
      const s = status.steps.find((x) => x.step === step);
      printLine(`${step} is paused${s ? `: ${s.waitingOrders} ${s.waitingOrders === 1 ? 'order waits' : 'orders wait'} at it, holding ${s.stockHeld} units of stock` : ''}`);
    });

  apiOptions(pipeline.command('resume').description('resume a paused step; the orders waiting at it go on at once').argument('<step>', 'reserve, pay or confirm'), TOKEN_HELP)
    .option('--json', 'print { resumed, steps } as JSON')
    .addHelpText('after', `\n${BOUND}\n\nExamples:\n  $ buildflow pipeline resume pay`)
    .action(async (step, opts) => {
      const res = await (await api(opts)).post<PipelineStatus & { resumed: boolean }>(stepPath(step, 'resume'), {});
      if (opts.json) return printJson(res);
      printLine(res.resumed ? `${step} is running again` : `${step} was not paused`);
    });
}
