import { Type, type Static } from '@sinclair/typebox';

/**
 * The schema of `buildflow loadtest --json` (printed by `buildflow loadtest schema`). Stable:
 * fields are only ever added; a change that would break a reader gets a new `schemaVersion`.
 * Latencies are milliseconds, shares 0..1, times ISO 8601 or ms since the epoch where named `at`.
 */
const Num = Type.Union([Type.Number(), Type.Null()]);
const LatencyFields = { count: Type.Integer(), p50: Num, p90: Num, p95: Num, p99: Num, max: Num, mean: Num };
const Violation = Type.Object(
  { at: Type.Number({ description: 'ms since the epoch of the request concerned; 0 when none' }), severity: Type.Number(), message: Type.String(), ids: Type.Array(Type.String()) },
  { additionalProperties: false },
);

const Stage = Type.Object({ durationMs: Type.Number(), toRate: Type.Number({ description: 'ops/s at the end of the stage' }) }, { additionalProperties: false });

/** A run against a baseline (`loadtest compare`, `--baseline`): each metric's change and each check's. */
export const ComparisonSchema = Type.Object(
  {
    passed: Type.Boolean(),
    exitCode: Type.Integer({ description: '0 passed, 12 worse than the baseline past a tolerance' }),
    base: Type.Object({ runId: Type.String(), startedAt: Type.String(), seed: Type.Integer() }, { additionalProperties: false }),
    new: Type.Object({ runId: Type.String(), startedAt: Type.String(), seed: Type.Integer() }, { additionalProperties: false }),
    workloadDifferences: Type.Array(Type.String(), { description: 'How the workloads differ (compared anyway with --force)' }),
    metrics: Type.Array(
      Type.Object(
        {
          metric: Type.String(),
          better: Type.Union([Type.Literal('higher'), Type.Literal('lower'), Type.Literal('same')]),
          kind: Type.Union([Type.Literal('relative'), Type.Literal('points')], { description: 'relative: change and tolerance are shares of the base value; points: differences of shares' }),
          base: Type.Number(),
          new: Type.Number(),
          change: Num,
          noise: Type.Union([Type.Number(), Type.Null()], { description: "Run-to-run noise of the change (relative), from the runs' per-second figures; null when they do not give it" }),
          tolerance: Type.Number(),
          judged: Type.Boolean({ description: 'False for a percentile with fewer than 10 requests beyond it in either run: shown, never failed' }),
          passed: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    checks: Type.Array(
      Type.Object(
        { name: Type.String(), base: Type.Union([Type.String(), Type.Null()]), new: Type.String(), passed: Type.Boolean({ description: 'False when the check passed in the baseline and fails now' }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Comparison = Static<typeof ComparisonSchema>;

/** `buildflow loadtest compare --json`. */
export const CompareReportSchema = Type.Object(
  { schemaVersion: Type.Literal(1), kind: Type.Literal('compare'), ...ComparisonSchema.properties },
  { additionalProperties: false, $id: 'https://buildflow.dev/schemas/loadtest-compare-1.json', title: 'buildflow loadtest compare' },
);

export const ReportSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    passed: Type.Boolean({ description: 'Every check and threshold passed' }),
    exitCode: Type.Integer({ description: '0 passed, 10 thresholds missed, 12 worse than --baseline, 11 checks failed (11 wins over 12, 12 over 10)' }),
    run: Type.Object(
      {
        runId: Type.String(),
        seed: Type.Integer(),
        model: Type.Union([Type.Literal('closed'), Type.Literal('open')]),
        connections: Type.Integer(),
        rate: Num,
        durationMs: Num,
        orders: Num,
        warmupMs: Type.Number(),
        startedAt: Type.String({ format: 'date-time' }),
        endedAt: Type.String({ format: 'date-time' }),
        measuredMs: Type.Number(),
        target: Type.Object(
          {
            kind: Type.Union([Type.Literal('url'), Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('postgres+redis')]),
            urls: Type.Array(Type.String()),
            servers: Type.Integer(),
            workers: Type.Integer({ description: 'Separate worker processes; 0 when the workers run inside serve (or unknown for a --url target)' }),
            redisPrefix: Type.Optional(Type.String({ description: 'The fresh Redis key prefix of a started postgres+redis deployment (deleted afterwards unless --keep)' })),
          },
          { additionalProperties: false },
        ),
        chaos: Type.Array(
          Type.Object(
            {
              kind: Type.Union([Type.Literal('worker-kill'), Type.Literal('server-kill'), Type.Literal('redis-flush')]),
              at: Type.Number(),
              recoveredAt: Type.Optional(Type.Number()),
              detail: Type.String(),
            },
            { additionalProperties: false },
          ),
        ),
        settle: Type.Object({ settled: Type.Boolean(), waitedMs: Type.Number(), timeoutMs: Type.Number() }, { additionalProperties: false }),
        workload: Type.Optional(
          Type.Object(
            {
              customers: Type.Integer(),
              hotStock: Type.Union([Type.Integer(), Type.Null()], { description: '--hot-stock; null: the default, one scarce product of small share' }),
              hotUnits: Type.Integer(),
              scarce: Type.Array(Type.String(), { description: 'Skus set-up gave only hotUnits each' }),
              retryShare: Type.Number(),
              cancelShare: Type.Number(),
              readShare: Type.Number(),
              refundShare: Type.Optional(Type.Number({ description: '--refund-share; absent in reports made before it existed' })),
              cancelPaidShare: Type.Optional(Type.Number({ description: '--cancel-paid-share; absent in reports made before it existed' })),
            },
            { additionalProperties: false },
          ),
        ),
        customers: Type.Optional(Type.Object({ reused: Type.Integer(), signedIn: Type.Integer(), signedUp: Type.Integer() }, { additionalProperties: false, description: 'How set-up had its customers' })),
        stages: Type.Optional(Type.Array(Stage)),
        aborted: Type.Optional(
          Type.Object(
            { fromSecond: Type.Integer(), atSecond: Type.Integer(), thresholds: Type.Array(Type.String()) },
            { additionalProperties: false, description: '--abort-on-fail stopped the load: these thresholds broke in every second from..at' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    metrics: Type.Record(Type.String(), Num, { description: 'Every metric a threshold can name, flat (see `intake.p99` etc.)' }),
    intake: Type.Object({ ...LatencyFields, rps: Type.Number() }, { additionalProperties: false }),
    reads: Type.Object({ ...LatencyFields, rps: Type.Number() }, { additionalProperties: false }),
    requests: Type.Object({ count: Type.Integer(), rps: Type.Number() }, { additionalProperties: false }),
    errors: Type.Object(
      {
        count: Type.Integer(),
        rate: Type.Number(),
        fiveXx: Type.Integer({ description: '5xx other than 503' }),
        unavailable: Type.Integer({ description: '503 answers' }),
        network: Type.Integer({ description: 'Requests that got no answer' }),
        byStatus: Type.Record(Type.String(), Type.Integer()),
        byCode: Type.Record(Type.String(), Type.Integer()),
      },
      { additionalProperties: false },
    ),
    openLoop: Type.Union([Type.Object({ late: Type.Integer(), dropped: Type.Integer() }, { additionalProperties: false }), Type.Null()]),
    e2e: Type.Object(
      { ...LatencyFields, histogram: Type.Array(Type.Object({ fromMs: Type.Number(), toMs: Type.Number(), count: Type.Integer() }, { additionalProperties: false })) },
      { additionalProperties: false, description: 'Placed → final: from when an accepted order was created to its last transition' },
    ),
    outcomes: Type.Object(
      {
        accepted: Type.Integer(),
        confirmed: Type.Integer(),
        cancelled: Type.Record(Type.String(), Type.Integer()),
        notFinal: Type.Integer(),
        shares: Type.Optional(
          Type.Object(
            { confirmed: Type.Number(), cancelled: Type.Record(Type.String(), Type.Number()), notFinal: Type.Number() },
            { additionalProperties: false, description: 'Each outcome as a share (0..1) of the accepted orders' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    generator: Type.Object(
      {
        busy: Type.Number({ description: "Share of the generator thread's time its event loop was busy" }),
        processCpu: Type.Number({ description: 'CPU time of the whole loadtest process over wall time (1 = one core)' }),
      },
      { additionalProperties: false },
    ),
    timeline: Type.Array(
      Type.Object(
        { second: Type.Integer(), spanMs: Type.Number({ description: 'How much of the second the run covered' }), requests: Type.Integer(), intake: Type.Integer(), errors: Type.Integer(), intakeP50: Num, intakeP99: Num },
        { additionalProperties: false },
      ),
    ),
    thresholds: Type.Array(
      Type.Object(
        { expression: Type.String(), metric: Type.String(), op: Type.String(), limit: Type.Number(), actual: Num, passed: Type.Boolean() },
        { additionalProperties: false },
      ),
    ),
    checks: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          status: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('skip')]),
          detail: Type.String(),
          count: Type.Integer(),
          first: Type.Optional(Violation),
          worst: Type.Optional(Violation),
          last: Type.Optional(Violation),
          samples: Type.Array(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    stages: Type.Optional(
      Type.Array(
        Type.Object(
          {
            index: Type.Integer(),
            startMs: Type.Number(),
            durationMs: Type.Number(),
            fromRate: Type.Number(),
            toRate: Type.Number(),
            due: Type.Integer({ description: 'Operations the schedule put in this stage' }),
            scheduled: Type.Integer({ description: 'Operations sent for this stage (late ones included, counted by when they were due)' }),
            late: Type.Integer(),
            errors: Type.Integer(),
            intake: Type.Object({ count: Type.Integer(), rps: Type.Number(), p50: Num, p99: Num }, { additionalProperties: false }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    knee: Type.Optional(
      Type.Object(
        {
          found: Type.Boolean({ description: 'A threshold broke for good; false: the ramp held to its end' }),
          heldRate: Type.Number({ description: 'The highest arrival rate (ops/s) at which every threshold held' }),
          brokenFromSecond: Type.Union([Type.Integer(), Type.Null()]),
          thresholds: Type.Array(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    comparison: Type.Optional(ComparisonSchema),
    outputs: Type.Optional(
      Type.Object(
        { report: Type.Optional(Type.String()), junit: Type.Optional(Type.String()), history: Type.Optional(Type.String()) },
        { additionalProperties: false, description: 'Where the run wrote its files (absolute paths)' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'https://buildflow.dev/schemas/loadtest-report-1.json', title: 'buildflow loadtest report' },
);

export type LoadtestReport = Static<typeof ReportSchema>;
