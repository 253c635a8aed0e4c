import { Type } from '@sinclair/typebox';
import { CANCEL_REASONS, ORDER_STATUSES } from '../../core/domain/order-status.js';
import { MONEY_KINDS } from '../../core/stats/money-stats.js';
import { StrictObject, StringEnum } from './common.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T, options: { description?: string } = {}) => Type.Union([t, Type.Null()], options);
const Count = Type.Integer({ minimum: 0 });
const Ms = Type.Number({ minimum: 0, description: 'milliseconds' });

const CappedCount = StrictObject(
  { count: Count, capped: Type.Boolean({ description: 'true: the query stopped at its cap (10000); the real figure is at least count' }) },
  { description: 'A count from a bounded query' },
);

const QueueCounts = StrictObject({ waiting: Count, active: Count, delayed: Count }, { description: "bee-queue's own counts for the topic's queue" });

const TopicStats = StrictObject({
  topic: Type.String(),
  pending: Type.Integer({ description: 'work not yet done or dead (exact): for reserve, pay and confirm the orders in the status that step moves on; for the other steps their outbox rows' }),
  waiting: Type.Integer({ description: 'due now, not leased' }),
  delayed: Type.Integer({ description: 'due later: retry backoff or scheduled' }),
  active: Type.Integer({ description: 'leased by a worker' }),
  dead: Type.Integer({ description: 'dead letters (exact)' }),
  capped: Type.Boolean({ description: 'waiting/delayed/active split by a scan that reached its cap' }),
  oldestWaitingMs: Nullable(Ms),
  succeeded: Type.Integer({ description: 'step runs that succeeded, cumulative' }),
  failed: Type.Integer({ description: 'step runs that failed (retried or dead-lettered), cumulative' }),
  redis: Nullable(QueueCounts, { description: 'always null since one queue carries every step (see queue)' }),
  paused: Nullable(StrictObject({ since: Type.String({ format: 'date-time' }), reason: Nullable(Type.String()) }), {
    description: 'set while an operator has the step paused (`buildflow pipeline pause`)',
  }),
});

const RateWindows = StrictObject({ '1s': Nullable(Type.Number()), '10s': Nullable(Type.Number()), '60s': Nullable(Type.Number()) });

const Cents = Type.Integer({ minimum: 0, description: 'cents' });

const MoneyStats = StrictObject(
  {
    capturedCents: Type.Integer({ minimum: 0, description: 'captured by the provider, cumulative (refunds not taken off)' }),
    refundedCents: Type.Integer({ minimum: 0, description: 'refunded, cumulative' }),
    authorizedNotCapturedCents: Type.Integer({ minimum: 0, description: 'authorized and neither captured nor voided: what cards still hold for orders' }),
    byKind: StrictObject(
      Object.fromEntries(MONEY_KINDS.map((k) => [k, StrictObject({ succeededCents: Cents, failedCents: Cents })])),
      { description: 'cents of the provider calls that have their answer, by payment-ledger kind and outcome, cumulative' },
    ),
  },
  { description: 'money moved through the payment provider, from counters kept with the payment ledger' },
);

const objectOf = (keys: readonly string[]) => StrictObject(Object.fromEntries(keys.map((k) => [k, Type.Integer()])));

/** The stats snapshot (src/core/stats/snapshot-types.ts), as `GET /v1/admin/stats` answers it. */
export const StatsSnapshotSchema = StrictObject(
  {
    generatedAt: Type.String({ format: 'date-time' }),
    tookMs: Ms,
    deployment: StrictObject({
      cell: Type.String({ description: 'sqlite, postgres or postgres+redis' }),
      storage: StringEnum(['sqlite', 'postgres'] as const),
      transport: StringEnum(['local', 'redis'] as const),
      version: Type.String(),
      host: Type.String(),
      pid: Type.Integer(),
      uptimeMs: Ms,
    }),
    topics: Type.Array(TopicStats),
    queue: Nullable(QueueCounts, { description: 'scale-out: jobs in the bee-queue queue, each a batch of outbox ids; null without Redis' }),
    orders: StrictObject({
      byStatus: objectOf(ORDER_STATUSES),
      cancelledByReason: objectOf(CANCEL_REASONS),
      stuck: StrictObject({
        count: CappedCount,
        byStatus: StrictObject(Object.fromEntries(ORDER_STATUSES.map((s) => [s, Type.Optional(Type.Integer())]))),
        oldestAgeMs: Nullable(Ms),
        stuckAfterMs: Ms,
      }),
      recent: Type.Array(
        StrictObject({
          id: Type.String(),
          reference: Type.String(),
          status: StringEnum(ORDER_STATUSES),
          totalCents: Type.Integer(),
          createdAt: Type.String({ format: 'date-time' }),
        }),
      ),
    }),
    counters: StrictObject(
      {
        ordersPlaced: Count,
        ordersReserved: Type.Integer({ minimum: 0, description: 'orders that ever reached reserved, cancelled later or not' }),
        ordersPaid: Type.Integer({ minimum: 0, description: 'orders that ever reached paid' }),
        ordersConfirmed: Type.Integer({ minimum: 0, description: 'orders that ever reached confirmed' }),
        ordersCancelled: Count,
      },
      { description: 'cumulative: the funnel placed → reserved → paid → confirmed, and cancellations; rates are the difference between two snapshots' },
    ),
    money: MoneyStats,
    rates: Nullable(StrictObject({ placed: RateWindows, confirmed: RateWindows, cancelled: RateWindows }, { description: 'orders per second over 1, 10 and 60 s' })),
    latency: StrictObject({ windowMs: Ms, samples: Count, samplesCapped: Type.Boolean({ description: 'samples is the most read (the newest of the window), not every order confirmed in it' }), p50Ms: Nullable(Ms), p95Ms: Nullable(Ms), p99Ms: Nullable(Ms) }, { description: 'placed → confirmed' }),
    workers: Type.Array(
      StrictObject({
        id: Type.String(),
        host: Type.String(),
        pid: Type.Integer(),
        roles: Type.Array(Type.String()),
        transport: Type.String(),
        concurrency: Type.Integer(),
        startedAt: Type.String({ format: 'date-time' }),
        lastSeenAt: Type.String({ format: 'date-time' }),
        handled: Count,
        state: StringEnum(['alive', 'gone'] as const),
      }),
    ),
    unattended: Type.Array(
      StrictObject({
        role: StringEnum(['steps', 'relay', 'deliveries'] as const),
        count: Type.Integer({ minimum: 0, description: 'due items, counted up to 10000' }),
        what: Type.String(),
        gone: Type.Array(StrictObject({ id: Type.String(), host: Type.String(), pid: Type.Integer(), lastSeenAt: Type.String({ format: 'date-time' }) })),
      }),
      { description: "work due now that no live worker takes (doctor's workers check): empty when all is attended" },
    ),
    settings: StrictObject(
      {
        accepted: Type.Array(Type.String(), { description: 'BUILDFLOW_ACCEPT of the answering process' }),
        checks: Type.Array(
          StrictObject({
            name: Type.String(),
            status: StringEnum(['ok', 'warn', 'fail', 'skip'] as const),
            detail: Type.String(),
            accepted: Type.Boolean(),
          }),
        ),
        checkedAt: Nullable(Type.String({ format: 'date-time' })),
      },
      { description: "doctor's Redis setting checks, run in the background by the answering process" },
    ),
    stock: StrictObject({
      lowStockMark: Type.Integer(),
      outOfStock: Nullable(CappedCount),
      lowStock: Nullable(CappedCount),
      reconciliation: StrictObject({
        status: StringEnum(['ok', 'fail', 'pending', 'error'] as const),
        detail: Type.String(),
        drifting: Count,
        checkedAt: Nullable(Type.String({ format: 'date-time' })),
        ageMs: Nullable(Ms),
      }),
    }),
    deadLetters: Type.Array(
      StrictObject({
        id: Type.Integer(),
        topic: Type.String(),
        orderId: Type.String(),
        attempts: Type.Integer(),
        lastError: Nullable(Type.String()),
        deadAt: Nullable(Type.String({ format: 'date-time' })),
      }),
    ),
  },
  { description: 'One stats snapshot; computed at most once per second however many clients poll' },
);
