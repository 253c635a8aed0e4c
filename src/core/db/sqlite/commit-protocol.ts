import type { CommittedWork } from '../unit-of-work.js';

/** What passes between the main thread and the SQLite commit thread. */

/** The commit thread's number in the ThreadWriteLock word (the main thread is 1). */
export const COMMIT_THREAD_HOLDER = 2;

export interface CommitThreadData {
  file: string;
  lock: SharedArrayBuffer;
  /** Most requests per transaction. */
  maxBatch: number;
}

/** One request for a batch program, by the name the thread knows it by. */
export interface ThreadRequest {
  id: number;
  program: string;
  request: unknown;
}

/** Requests (those that arrived in one turn of the main thread's loop), or the end. */
export type ToThread = { requests: ThreadRequest[] } | { close: true };

/**
 * The answers of one committed batch, by request id, with what each committed unit did (for the
 * main thread's after-commit hooks); or why the batch could not be run at all.
 */
export type FromThread = { ids: number[]; answers: unknown[]; work: CommittedWork[] } | { ids: number[]; error: string };
