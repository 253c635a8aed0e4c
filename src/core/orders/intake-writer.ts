/**
 * Entry point of the intake writer thread (see intake-thread.ts). It owns a second connection to
 * the database and does all of intake's SQLite work off the event loop that serves HTTP: each
 * batch is committed (without fsync), reported as committed so the next batch can follow, then
 * fsynced through the WAL on the thread pool and reported as durable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, sqliteFile } from '../db/sqlite.js';
import type { Database } from '../db/schema.js';
import { WalSync } from '../db/wal-sync.js';
import { commitOrderBatch, type OrderRequest } from './write-order-batch.js';

interface BatchMessage {
  id: number;
  batch: OrderRequest[];
  now: number;
}

const port = parentPort!;
const { dataDir } = workerData as { dataDir: string };
const db = openSqlite<Database>({ dataDir });
const walSync = new WalSync(`${sqliteFile(dataDir)}-wal`);

port.on('message', (msg: BatchMessage | 'close') => {
  if (msg === 'close') {
    void walSync
      .close()
      .then(() => db.destroy())
      .then(() => port.close());
    return;
  }
  void commitOrderBatch(db, msg.batch, msg.now).then((outcomes) => {
    port.postMessage({ id: msg.id, outcomes });
    walSync.sync().then(
      () => port.postMessage({ id: msg.id, durable: true }),
      (err: Error) => port.postMessage({ id: msg.id, durable: false, error: err.message }),
    );
  });
});
