import type { OrderOutcome, OrderRequest } from './write-order-batch.js';

/** What passes between the main thread and the intake writer thread. */

/** The writer thread's number in the ThreadWriteLock word (the main thread is 1). */
export const WRITER_HOLDER = 2;

export interface WriterData {
  file: string;
  lock: SharedArrayBuffer;
  /** Most orders per transaction. */
  maxBatch: number;
}
/** Orders to place (those that arrived in one turn of the main thread's loop), or the end. */
export type WriterRequest = { orders: { id: number; request: OrderRequest }[] } | { close: true };
/** The outcomes of one committed batch, by request id. */
export type WriterReply = { ids: number[]; outcomes: OrderOutcome[] } | { ids: number[]; error: string };
