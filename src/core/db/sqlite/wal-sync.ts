import { open, type FileHandle } from 'node:fs/promises';

/**
 * Makes committed SQLite transactions durable without blocking the event loop.
 *
 * The connection runs with `synchronous = NORMAL`: a commit appends its frames to the WAL with
 * write() and returns, without fsync. Before a write is acknowledged to a client, `sync()` fsyncs
 * the WAL file (fdatasync) on libuv's thread pool; once it resolves, every transaction committed before the
 * call survives power loss (the flush covers the file, whichever descriptor asks). Callers
 * that arrive while an fsync runs share the next one, so a burst of commits costs one or two
 * fsyncs and the main thread keeps serving requests meanwhile.
 */
export class WalSync {
  private handle: FileHandle | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  /** Resolves once everything committed before this call is on stable storage. */
  sync(): Promise<void> {
    if (!this.running) return (this.running = this.flush());
    // The fsync in progress may have started before the caller's commit: wait for a fresh one.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.next]);
    await this.handle?.close();
    this.handle = undefined;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return (this.running = this.flush());
  }

  private flush(): Promise<void> {
    const run = this.fsyncWal().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    return run;
  }

  private async fsyncWal(): Promise<void> {
    try {
      this.handle ??= await open(this.walPath, 'r');
      // fdatasync, as SQLite itself uses on Linux: the data and the size, not the timestamps.
      await this.handle.datasync();
    } catch (err) {
      // No WAL file yet means nothing was ever written through it.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
