/**
 * Tuning numbers that are not settings of their own, each with the reason for its value (bee-queue's
 * lib/defaults.js is the model). Settings a user can change are in config.ts's schema, with their
 * defaults and reasons there; help texts and the README read them from that one place.
 */
export const DEFAULTS = {
  worker: {
    /**
     * Most messages one batch claims and runs. A batch costs two commits and a fixed number of
     * statements whatever its size, so larger is cheaper per message; 512 keeps one batch's
     * parameter arrays and lock hold time small.
     */
    batchSize: 512,
    /** Embedded transport: poll when no in-process wake-up came (work from other processes, retries coming due). */
    pollMs: 250,
    /**
     * Redis transport: jobs each worker takes from the queue per unit of concurrency. Jobs that
     * arrive together are merged into one batch (up to batchSize ids), so this bounds how much a
     * busy worker gathers, not how many calls run in parallel.
     */
    jobsPerConcurrency: 16,
    /** How often each worker puts stalled jobs (of crashed or blocked workers) back; half bee-queue's stall interval. */
    stallCheckMs: 2_500,
    /** A lease is never shorter than this many payment calls, or a slow batch would be taken over while still running. */
    leasePaymentCalls: 4,
  },
  relay: {
    /**
     * Most outbox ids in one bee-queue job. A job costs ≈ 12 Redis commands whatever it carries, so
     * big jobs make a backlog cheap; 128 still splits a full pass (the worker batch size) into four
     * jobs that parallel batches and worker processes can share.
     */
    idsPerJob: 128,
    /** A publish Redis does not confirm in this time is given up and retried on the next pass. */
    publishTimeoutMs: 5_000,
    /** Stale published rows (Redis may have lost them) are looked for this many times per republish bound. */
    staleChecksPerRepublish: 4,
  },
  pause: {
    /** Workers read the paused steps at most this often: a pause or resume binds every process within it (plus one batch). */
    readMaxAgeMs: 1_000,
    /** A message held at a paused step looks again after this long; resume makes it due at once, so this only bounds a missed resume. */
    holdMs: 60_000,
  },
  sweeper: {
    /** Orders handled per sweep: bounds one sweep's transaction; the next sweep takes the rest. */
    batch: 500,
  },
  doctor: {
    /** Each connection, query and Redis command of `doctor`: a healthy deployment answers in ms, a dead one never. */
    timeoutMs: 3_000,
    /** `--timeout` bounds: under 100 ms a healthy remote database can fail; over a minute nobody is waiting. */
    minTimeoutMs: 100,
    maxTimeoutMs: 60_000,
  },
  cli: {
    /** `order create --wait`: the pipeline settles an order in well under a second; 30 s covers a busy deployment. */
    orderWaitMs: 30_000,
    /**
     * `--wait` polls first after this (the pipeline usually settles an order within a few hundred
     * ms), then backs off to `orderPollMaxMs`, so a slow order does not fill the server's request log.
     */
    orderPollFirstMs: 100,
    orderPollMaxMs: 1_000,
    /** The dashboard keeps this much history for its rate sparklines. */
    dashboardKeepMs: 60_000,
  },
  pages: {
    /** Items per page of a list when the caller names no limit. */
    defaultLimit: 20,
    /** The largest page a caller may ask for: bounds one request's query and answer. */
    maxLimit: 100,
  },
  http: {
    /** Orders are at most BUILDFLOW_MAX_ITEMS (≤ 1000) short lines: 256 KiB leaves ample room. */
    bodyLimitBytes: 256 * 1024,
    /** The rate-limit settings count per minute. */
    rateWindowMs: 60_000,
    /** Past this many keys a limiter drops expired windows, so a flood of addresses cannot grow its memory without bound. */
    rateLimiterPruneAt: 10_000,
  },
  database: {
    /** SQLite: a write waits this long for another connection's lock before it fails as busy. */
    sqliteBusyTimeoutMs: 10_000,
    /** Postgres: a database that neither answers nor refuses must not hold requests forever: fail (503) instead. */
    postgresConnectTimeoutMs: 5_000,
  },
  redis: {
    /** A Redis that does not accept a connection within this long counts as away. */
    connectTimeoutMs: 2_000,
    /** A slow Redis must not hold a request up: callers treat a timeout like a miss. */
    commandTimeoutMs: 1_000,
    /** Reconnect quickly at first (this much longer each try), then at most every `reconnectMaxMs`. */
    reconnectStepMs: 50,
    reconnectMaxMs: 2_000,
  },
  deliveries: {
    /** How often idle webhook and email pumps look for due rows (others' rows, retries coming due). */
    pollMs: 200,
    /** nodemailer's connection, greeting and socket timeouts, each. */
    mailTimeoutMs: 30_000,
    /** The three mail timeouts bound one send at 90 s; the lease outlasts that, so a send in progress is never taken over. */
    mailLeaseMs: 150_000,
    /** Added to BUILDFLOW_WEBHOOK_TIMEOUT_MS for a delivery's lease, so a live attempt is never taken over. */
    webhookLeaseMarginMs: 5_000,
    /** An idle socket to a receiver is closed after this long, under the 5 s keep-alive common servers use. */
    webhookKeepAliveMs: 4_000,
    /** Bytes of a receiver's answer kept in the delivery log: enough to read its error, never a whole page. */
    responseExcerptBytes: 1024,
    /** Characters of an error kept on a delivery or email row. */
    errorExcerptChars: 1000,
    /** A later event of an order whose earlier one is pending looks again this often at most (it is also woken when that one finishes). */
    blockedRecheckMs: 1_000,
    /** At shutdown the deliveries in flight get this long to finish; an abandoned one is retaken after its lease. */
    stopMs: 10_000,
    /** A receiver's Retry-After longer than this is taken as this: a receiver cannot park a delivery for days. */
    maxRetryAfterMs: 24 * 60 * 60_000,
    /** After a rotation the old webhook secret keeps signing (beside the new one) this long, so receivers can switch. */
    secretOverlapMs: 24 * 60 * 60_000,
  },
  webhooks: {
    /** A new endpoint's `stock.low` fires at this many units on hand or fewer, unless it names its own threshold. */
    stockLowThreshold: 5,
  },
  stats: {
    /**
     * The most rows any bounded query of the snapshot reads. A figure taken from a scan that reached
     * it is a lower bound, and the snapshot says so (`capped: true`; shown as `≥ 10000`).
     */
    scanCap: 10_000,
    /** Confirmed orders looked at for latency percentiles, newest first. */
    latencySamples: 2_000,
    /** Recent orders a snapshot lists, newest first. */
    recentOrders: 50,
    /** Latency percentiles are over orders confirmed in this window. */
    latencyWindowMs: 60_000,
    /** Snapshots are computed at most this often; callers in between share the last one. */
    minIntervalMs: 1_000,
    /** Rate samples older than the longest window (60 s, with room for a late poll) are dropped. */
    rateKeepMs: 75_000,
    /** Postgres counter slots of closed connections are folded at most this often. */
    foldEveryMs: 60_000,
    /**
     * A worker registration gone this long is forgotten (not listed, deleted by the next heartbeat of
     * any worker), so a gauge of gone workers clears within minutes of a crash with no successor;
     * one with a successor on its host is cleared at once.
     */
    forgetWorkerAfterMs: 5 * 60_000,
    /** The background stock-vs-ledger check gives up after this long (it reads the whole ledger). */
    stockCheckTimeoutMs: 30_000,
    /** A Redis queue's health check (on the dashboard) gives up after this long. */
    queueHealthTimeoutMs: 1_000,
  },
  shutdown: {
    /** HTTP: in-flight requests get this long to finish after the server stops accepting. */
    httpDrainMs: 10_000,
    /** Workers: batches in hand get this long to finish; an abandoned batch is retaken after its lease. */
    workerDrainMs: 10_000,
    /** Closing the database, Redis and the writer thread after both drains. */
    closeMs: 5_000,
  },
} as const;

/**
 * The whole shutdown bound: it nests the drains, so a clean drain (requests, then batches, then
 * closing) ends within it and the process exits 0.
 */
export const SHUTDOWN_GRACE_MS = DEFAULTS.shutdown.httpDrainMs + DEFAULTS.shutdown.workerDrainMs + DEFAULTS.shutdown.closeMs;
