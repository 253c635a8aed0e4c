/**
 * In-process wake-up for workers: intake calls `wake()` after a commit, workers `wait()` for it
 * or for their poll interval, whichever comes first. Polling still runs, so work committed by
 * another process is picked up too.
 */
export class WakeSignal {
  private waiters: (() => void)[] = [];
  private pending = false;

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length === 0) this.pending = true;
    for (const w of waiters) w();
  }

  /** Resolves on the next wake (or at once if one came since the last wait), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}
