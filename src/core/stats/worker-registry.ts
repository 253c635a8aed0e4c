import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { WorkerStats } from './snapshot-types.js';
import { DEFAULTS } from '../defaults.js';

/** A worker counts as gone after this many heartbeats did not arrive. */
export const MISSED_HEARTBEATS = 3;

const FORGET_AFTER_MS = DEFAULTS.stats.forgetWorkerAfterMs;

/** The most workers a snapshot lists, most recently seen first. */
const LISTED = 100;

/** What a worker process says about itself when it registers. */
export interface WorkerInfo {
  id: string;
  roles: readonly string[];
  transport: string;
  concurrency: number;
  /** How often it heartbeats. */
  heartbeatMs: number;
}

/** Registered workers, each alive or gone (three heartbeats missed) as of `now`. */
export async function listWorkers(db: Kysely<Database>, now: number): Promise<WorkerStats[]> {
  const rows = await db.selectFrom('workers').selectAll().orderBy('last_seen_at', 'desc').limit(LISTED).execute();
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    roles: r.roles === '' ? [] : r.roles.split(','),
    transport: r.transport,
    concurrency: Number(r.concurrency),
    startedAt: new Date(Number(r.started_at)).toISOString(),
    lastSeenAt: new Date(Number(r.last_seen_at)).toISOString(),
    handled: Number(r.handled),
    state: now - Number(r.last_seen_at) > MISSED_HEARTBEATS * Number(r.heartbeat_ms) ? 'gone' : 'alive',
  }));
}

/**
 * Keeps one worker process in the registry: registers on start, heartbeats every
 * `heartbeatMs` (with the count of messages handled so far), and deregisters on a clean stop.
 * A process that dies without stopping stays listed, and shows as gone after
 * {@link MISSED_HEARTBEATS} heartbeats. A heartbeat that fails (database away) is retried on the next tick.
 */
export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly info: WorkerInfo,
    private readonly handled: () => number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const now = Date.now();
    await this.db.deleteFrom('workers').where('last_seen_at', '<', now - FORGET_AFTER_MS).execute();
    await this.upsert(now);
    this.timer = setInterval(() => {
      if (this.beating) return;
      this.beating = this.beat()
        .catch(this.onError)
        .finally(() => (this.beating = undefined));
    }, this.info.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    const res = await this.db
      .updateTable('workers')
      .set({ last_seen_at: now, handled: this.handled() })
      .where('id', '=', this.info.id)
      .executeTakeFirst();
    // Removed meanwhile (forgotten after a long pause): register again.
    if (Number(res.numUpdatedRows) === 0) await this.upsert(now);
  }

  private async upsert(now: number): Promise<void> {
    const row = {
      id: this.info.id,
      host: hostname(),
      pid: process.pid,
      roles: this.info.roles.join(','),
      transport: this.info.transport,
      concurrency: this.info.concurrency,
      heartbeat_ms: this.info.heartbeatMs,
      started_at: this.startedAt,
      last_seen_at: now,
      handled: this.handled(),
    };
    await this.db
      .insertInto('workers')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_at: now, handled: row.handled }))
      .execute();
  }

  /** Stops heartbeating and removes the registration. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.db.deleteFrom('workers').where('id', '=', this.info.id).execute();
  }
}
