/**
 * Entry of the intake writer thread (see intake-writer.ts). Every order that arrived while the
 * previous batch was being committed forms the next batch (group commit), committed on this
 * thread's own connection and answered once durable.
 */
import { basename, dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../db/sqlite.js';
import { ThreadWriteLock } from '../db/thread-write-lock.js';
import { WRITER_HOLDER, type WriterData, type WriterReply, type WriterRequest } from './intake-writer-protocol.js';
import { commitOrderBatch, type OrderRequest } from './write-order-batch.js';

const data = workerData as WriterData;
const port = parentPort!;
const lock = new ThreadWriteLock(WRITER_HOLDER, data.lock);
// synchronous=FULL: a commit returns once the WAL is fsynced, so its batch is durable when
// answered. (Fsyncing on the thread pool while the next batch is written was tried: batches
// got smaller and intake slower.) Every statement takes the lock shared with the main thread.
const db = openSqlite({ dataDir: dirname(data.file), fileName: basename(data.file), synchronous: 'full', writeLock: lock });

const queue: { id: number; request: OrderRequest }[] = [];
let flushing = false;
let closing = false;

async function flush(): Promise<void> {
  while (queue.length > 0) {
    const batch = queue.splice(0, data.maxBatch);
    const ids = batch.map((b) => b.id);
    try {
      const outcomes = await commitOrderBatch(
        db,
        batch.map((b) => b.request),
        Date.now(),
      );
      port.postMessage({ ids, outcomes } satisfies WriterReply);
    } catch (err) {
      port.postMessage({ ids, error: (err as Error).message ?? String(err) } satisfies WriterReply);
    }
    // Let the orders that arrived meanwhile be delivered before the next batch is cut.
    await new Promise((resolve) => setImmediate(resolve));
  }
  flushing = false;
  if (closing) await end();
}

async function end(): Promise<void> {
  await db.destroy();
  port.close();
}

port.on('message', (msg: WriterRequest) => {
  if ('close' in msg) {
    closing = true;
    if (!flushing) void end();
    return;
  }
  queue.push(...msg.orders);
  if (!flushing) {
    flushing = true;
    setImmediate(() => void flush());
  }
});
