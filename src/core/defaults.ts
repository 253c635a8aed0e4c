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
     * Redis transport: jobs each step queue keeps in flight per unit of concurrency. Jobs that arrive
     * together are batched, so this is a batch size, not a count of parallel calls.
     */
    jobsPerConcurrency: 64,
    /**
     * Redis transport: how long a batch waits for more deliveries before it starts. bee-queue hands
     * jobs over one at a time; without a wait, batches stay small and each pays a transaction's
     * fixed cost and its turn at hot products' row locks. A few ms cost little latency.
     */
    lingerMs: 5,
    /** How often each worker puts stalled jobs (of crashed or blocked workers) back; half bee-queue's stall interval. */
    stallCheckMs: 2_500,
    /** A lease is never shorter than this many payment calls, or a slow batch would be taken over while still running. */
    leasePaymentCalls: 4,
  },
  relay: {
    /** A publish Redis does not confirm in this time is given up and retried on the next pass. */
    publishTimeoutMs: 5_000,
    /** Stale published rows (Redis may have lost them) are looked for this many times per republish bound. */
    staleChecksPerRepublish: 4,
  },
  sweeper: {
    /** Orders handled per sweep: bounds one sweep's transaction; the next sweep takes the rest. */
    batch: 500,
  },
  doctor: {
    /** Each connection, query and Redis command of `doctor`: a healthy deployment answers in ms, a dead one never. */
    timeoutMs: 3_000,
  },
  cli: {
    /** `order create --wait`: the pipeline settles an order in well under a second; 30 s covers a busy deployment. */
    orderWaitMs: 30_000,
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
