/**
 * The SQLite commit thread's side (see group-commit.ts). Every request that arrived while the
 * previous batch was being committed forms the next batch of its program, committed on this
 * thread's own connection in one unit of work and answered once durable. The thread's entry
 * module (core/commit-thread.ts) names the programs it serves.
 */
import { basename, dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { cutBatch } from '../commit-engine.js';
import { UnitRunner, type BatchProgram, type CommittedWork } from '../unit-of-work.js';
import { COMMIT_THREAD_HOLDER, type CommitThreadData, type FromThread, type ThreadRequest, type ToThread } from './commit-protocol.js';
import { openSqlite } from './sqlite.js';
import { ThreadWriteLock } from './thread-write-lock.js';

/** Serves `programs` on this worker thread until the main thread closes it. */
export function serveBatchPrograms(programs: readonly BatchProgram<unknown, unknown>[]): void {
  const data = workerData as CommitThreadData;
  const port = parentPort!;
  const byName = new Map(programs.map((p) => [p.name, p]));
  const lock = new ThreadWriteLock(COMMIT_THREAD_HOLDER, data.lock);
  // synchronous=FULL: a commit returns once the WAL is fsynced, so its batch is durable when
  // answered. (Fsyncing on the thread pool while the next batch is written was tried: batches
  // got smaller and intake slower.) Every statement takes the lock shared with the main thread.
  const db = openSqlite({ dataDir: dirname(data.file), fileName: basename(data.file), synchronous: 'full', writeLock: lock });
  // The main thread runs the deployment's hooks: here the one hook hands each unit's work over.
  const units = new UnitRunner(db);
  let committed: CommittedWork[] = [];
  units.onCommit((work) => void committed.push(work));

  const queue: ThreadRequest[] = [];
  let flushing = false;
  let closing = false;

  const end = async () => {
    await db.destroy();
    port.close();
  };

  const flush = async () => {
    while (queue.length > 0) {
      const batch = cutBatch(queue, data.maxBatch, (r) => r.program);
      const program = batch[0]!.program;
      const ids = batch.map((b) => b.id);
      try {
        const found = byName.get(program);
        if (!found) throw new Error(`the commit thread has no program ${program}`);
        const answers = await units.runBatch(
          found,
          batch.map((b) => b.request),
        );
        port.postMessage({ ids, answers, work: committed } satisfies FromThread);
      } catch (err) {
        port.postMessage({ ids, error: (err as Error).message ?? String(err) } satisfies FromThread);
      }
      committed = [];
      // Let the requests that arrived meanwhile be delivered before the next batch is cut.
      await new Promise((resolve) => setImmediate(resolve));
    }
    flushing = false;
    if (closing) await end();
  };

  port.on('message', (msg: ToThread) => {
    if ('close' in msg) {
      closing = true;
      if (!flushing) void end();
      return;
    }
    queue.push(...msg.requests);
    if (!flushing) {
      flushing = true;
      setImmediate(() => void flush());
    }
  });
}
