/**
 * A lock shared by the threads of one process that open the same SQLite file. SQLite's own lock
 * makes a second writer wait by sleeping in its busy handler, which on the main thread would
 * stall the event loop; taking this lock first makes every thread wait with `await` instead.
 * Processes other than this one still meet SQLite's lock.
 *
 * The shared word holds 0 when free, else the number of the thread holding it, so a thread that
 * died holding it can be recognised and its hold dropped ({@link releaseHeldBy}).
 */
export class ThreadWriteLock {
  private readonly word: Int32Array;

  /**
   * `holder`: this thread's number (1 for the main thread); `buffer`: the shared word of a lock
   * made in another thread, or none for a new lock.
   */
  constructor(
    private readonly holder = 1,
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4),
  ) {
    if (holder < 1) throw new RangeError('lock holder numbers start at 1');
    this.word = new Int32Array(buffer);
  }

  /** Waits without blocking the thread's event loop. */
  async acquire(): Promise<void> {
    for (;;) {
      const seen = Atomics.compareExchange(this.word, 0, 0, this.holder);
      if (seen === 0) return;
      const waited = Atomics.waitAsync(this.word, 0, seen);
      if (waited.async) await waited.value;
    }
  }

  release(): void {
    this.releaseHeldBy(this.holder);
  }

  /** Frees the lock if thread `holder` holds it (for a thread that ended without releasing). */
  releaseHeldBy(holder: number): void {
    if (Atomics.compareExchange(this.word, 0, holder, 0) === holder) Atomics.notify(this.word, 0);
  }
}
