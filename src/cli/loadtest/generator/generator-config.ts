import type { Stage } from './arrival-schedule.js';
import type { WorkloadPlan } from './plan.js';

/** The load model: a fixed number of connections each sending as fast as answers come, or a fixed arrival rate. */
export type LoadModel = { kind: 'closed'; connections: number } | { kind: 'open'; rate: number; connections: number; stages?: Stage[] | undefined };

/** Everything the generator thread is started with (structured-cloned into it). */
export interface GeneratorConfig {
  urls: string[];
  /** Bearer token of each customer, by customer number. */
  tokens: string[];
  /** The admin's bearer token, for the admin's follow-ups (refunds, cancels after payment). */
  adminToken: string;
  plan: WorkloadPlan;
  model: LoadModel;
  /** Stop sending after this long (warm-up included)… */
  durationMs?: number | undefined;
  /** …or once this many orders were placed. */
  orders?: number | undefined;
}

/** Messages from the generator thread. */
export type GeneratorMessage =
  | { type: 'started'; at: number }
  /** The load itself is over; the admin's follow-ups may still be waiting for their orders. */
  | { type: 'loaded'; at: number }
  | { type: 'records'; records: import('./records.js').RequestRecord[] }
  | { type: 'done'; busy: number; startedAt: number; endedAt: number; dropped: number }
  | { type: 'failed'; message: string };
