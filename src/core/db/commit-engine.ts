import type { BatchProgram, UnitRunner } from './unit-of-work.js';

/** Requests of one program committed together at most; bounds one transaction's size and latency. */
export const MAX_BATCH = 256;

/**
 * Where batched writes commit (group commit): every request of a program that arrives while a
 * batch commits joins the next batch, so one transaction and one sync serve many requests. A
 * request's promise resolves with its answer once its unit has committed durably and the
 * deployment's after-commit hooks have seen what it did. openStorage picks the engine.
 */
export interface CommitEngine {
  submit<Req, Out>(program: BatchProgram<Req, Out>, request: Req): Promise<Out>;
  /** Answers every request already submitted, then stops. */
  close(): Promise<void>;
}

/** Takes the next batch off `queue`: its leading requests of one program, at most `max`. */
export function cutBatch<T>(queue: T[], max: number, programOf: (item: T) => unknown): T[] {
  const program = programOf(queue[0]!);
  let n = 1;
  while (n < queue.length && n < max && programOf(queue[n]!) === program) n++;
  return queue.splice(0, n);
}

interface Queued {
  program: BatchProgram<unknown, unknown>;
  request: unknown;
  resolve(out: unknown): void;
  reject(err: unknown): void;
}

/** Commits batches on this thread through the deployment's unit runner (Postgres; SQLite without the commit thread). */
export class InProcessCommits implements CommitEngine {
  private queue: Queued[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly units: UnitRunner,
    /** 1 turns group commit off. */
    private readonly maxBatch = MAX_BATCH,
  ) {}

  submit<Req, Out>(program: BatchProgram<Req, Out>, request: Req): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ program: program as BatchProgram<unknown, unknown>, request, resolve: resolve as (out: unknown) => void, reject });
      // Let the requests already read from sockets in this turn of the loop join the batch.
      this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  async close(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = cutBatch(this.queue, this.maxBatch, (q) => q.program);
        try {
          const answers = await this.units.runBatch(batch[0]!.program, batch.map((q) => q.request));
          batch.forEach((q, i) => q.resolve(answers[i]));
        } catch (err) {
          batch.forEach((q) => q.reject(err));
        }
      }
    } finally {
      this.draining = undefined;
    }
  }
}
