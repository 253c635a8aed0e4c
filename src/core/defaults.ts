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
