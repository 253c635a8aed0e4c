import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { DEFAULTS } from '../defaults.js';

export type WorkerState = 'alive' | 'gone';

/** A registered worker process (`serve` with workers, or `worker`). */
export interface WorkerStats {
  id: string;
  host: string;
  pid: number;
  roles: string[];
  transport: string;
  concurrency: number;
  startedAt: string;
  lastSeenAt: string;
  /** Messages its steps handled, as of its last heartbeat. */
  handled: number;
  /** Gone once three heartbeats are missing, or at once when its pid on the answering host has died. */
  state: WorkerState;
}

/** A worker counts as gone after this many heartbeats did not arrive. */
export const MISSED_HEARTBEATS = 3;

/**
 * A registration that has been gone this long is forgotten: no longer listed, and deleted by the
 * next heartbeat of any worker. With the default 5 s heartbeat a worker that died without a
 * successor leaves the registry at most 15 s + 5 min after its last heartbeat.
 */
export const FORGET_AFTER_MS = DEFAULTS.stats.forgetWorkerAfterMs;

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

/**
 * Registered workers, each alive or gone as of `now`, leaving out registrations that no longer
 * stand for anything. A worker is gone when it missed {@link MISSED_HEARTBEATS} heartbeats, or at
 * once when it registered from this host and its pid is no longer alive. A gone registration is
 * left out when a live one of the same host and roles registered after it (its restart), and once it
 * has been gone for {@link FORGET_AFTER_MS}. Read-only: heartbeats delete what this leaves out.
 */
export async function listWorkers(db: Kysely<Database>, now: number): Promise<WorkerStats[]> {
  const rows = await db
    .selectFrom('workers')
    .selectAll()
    .where(sql<number>`last_seen_at + heartbeat_ms * ${MISSED_HEARTBEATS}`, '>=', now - FORGET_AFTER_MS)
    .orderBy('last_seen_at', 'desc')
    .limit(LISTED)
    .execute();
  const here = hostname();
  const workers: WorkerStats[] = rows.map((r) => {
    const pid = Number(r.pid);
    const missed = now - Number(r.last_seen_at) > MISSED_HEARTBEATS * Number(r.heartbeat_ms);
    const dead = r.host === here && !processAlive(pid);
    return {
      id: r.id,
      host: r.host,
      pid,
      roles: r.roles === '' ? [] : r.roles.split(','),
      transport: r.transport,
      concurrency: Number(r.concurrency),
      startedAt: new Date(Number(r.started_at)).toISOString(),
      lastSeenAt: new Date(Number(r.last_seen_at)).toISOString(),
      handled: Number(r.handled),
      state: missed || dead ? 'gone' : 'alive',
    };
  });
  return workers.filter((w) => w.state === 'alive' || !workers.some((o) => replaces(o, w)));
}

/** True when `later` is a live registration of the same host and roles that started after `gone` was last seen. */
function replaces(later: WorkerStats, gone: WorkerStats): boolean {
  return (
    later.state === 'alive' &&
    later.id !== gone.id &&
    later.host === gone.host &&
    later.roles.join(',') === gone.roles.join(',') &&
    Date.parse(later.startedAt) >= Date.parse(gone.lastSeenAt)
  );
}

/**
 * Whether a process of this host is alive. Signal 0 checks without sending: ESRCH means no such
 * process; EPERM means it exists under another user.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the registrations that no longer stand for a process: those of this host whose pid is
 * gone, those of this host and `roles` that missed their heartbeats (this process replaces them),
 * and any gone for over {@link FORGET_AFTER_MS}. `self` is never deleted.
 */
export async function clearGoneWorkers(db: Kysely<Database>, self: { id: string; roles: readonly string[] }, now: number): Promise<number> {
  const here = hostname();
  const roles = self.roles.join(',');
  const local = await db.selectFrom('workers').select(['id', 'pid', 'roles', 'last_seen_at', 'heartbeat_ms']).where('host', '=', here).where('id', '!=', self.id).execute();
  const replaced = local
    .filter((r) => !processAlive(Number(r.pid)) || (r.roles === roles && now - Number(r.last_seen_at) > MISSED_HEARTBEATS * Number(r.heartbeat_ms)))
    .map((r) => r.id);
  let cleared = 0;
  if (replaced.length > 0) {
    const res = await db.deleteFrom('workers').where('id', 'in', replaced).executeTakeFirst();
    cleared += Number(res.numDeletedRows);
  }
  const res = await db
    .deleteFrom('workers')
    .where('id', '!=', self.id)
    .where(sql<number>`last_seen_at + heartbeat_ms * ${MISSED_HEARTBEATS}`, '<', now - FORGET_AFTER_MS)
    .executeTakeFirst();
  return cleared + Number(res.numDeletedRows);
}

/**
 * Keeps one worker process in the registry: registers on start, heartbeats every
 * `heartbeatMs` (with the count of messages handled so far), and deregisters on a clean stop.
 * A process that dies without stopping shows as gone (see {@link listWorkers}); registering and
 * each heartbeat clear the registrations it replaces and those gone too long
 * ({@link clearGoneWorkers}). A heartbeat that fails (database away) is retried on the next tick.
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
    await this.upsert(now);
    await clearGoneWorkers(this.db, this.info, now);
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
    await clearGoneWorkers(this.db, this.info, now);
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
