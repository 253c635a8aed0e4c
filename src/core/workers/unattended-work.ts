import { sql, type Kysely } from 'kysely';
import { formatDuration } from '../timeout.js';
import type { Database } from '../db/schema.js';
import { DEFAULTS } from '../defaults.js';
import type { WorkerStats } from './worker-registry.js';

// The stats snapshot's scan cap (STATS_SCAN_CAP): the waiting work is a figure of the same snapshot.
const SCAN_CAP = DEFAULTS.stats.scanCap;

/** The worker roles that take waiting work (`buildflow worker --no-steps` and friends turn them off). */
export type WorkRole = 'steps' | 'relay' | 'deliveries';

/** Work that is due now and needs a live worker of `role`. */
export interface WaitingWork {
  role: WorkRole;
  /** Due items, counted up to {@link SCAN_CAP}. */
  count: number;
  /** What the items are, plural: `pipeline messages`, `webhook deliveries and emails`. */
  what: string;
}

/** A registration that could have taken the work, as named in a report. */
export interface GoneWorker {
  id: string;
  host: string;
  pid: number;
  lastSeenAt: string;
}

/** Waiting work that no live worker will take: the rule doctor, the stats snapshot and the dashboard share. */
export interface UnattendedWork extends WaitingWork {
  /** Gone registrations that had the role: the workers that should be taking it. */
  gone: GoneWorker[];
}

/**
 * Counts the work due now, by the role that takes it: pipeline messages (outbox rows pending and
 * due, leased or not: a lease held by a dead worker is work nobody does) for `steps`, and on the
 * Redis transport for `relay` too (it publishes them to the queues); webhook deliveries and emails
 * due for `deliveries`. Each count walks a partial index of pending rows and stops at
 * {@link SCAN_CAP}.
 */
export async function readWaitingWork(db: Kysely<Database>, now: number, transport: 'local' | 'redis'): Promise<WaitingWork[]> {
  const { rows } = await sql<{ kind: string; n: number }>`
    select 'outbox' as kind, count(*) as n from (select id from outbox where status = 'pending' and available_at <= ${now} limit ${SCAN_CAP}) o
    union all
    select 'webhooks', count(*) from (select id from webhook_deliveries where status = 'pending' and next_attempt_at <= ${now} limit ${SCAN_CAP}) w
    union all
    select 'emails', count(*) from (select id from email_messages where status = 'pending' and next_attempt_at <= ${now} limit ${SCAN_CAP}) e`.execute(db);
  const n = (kind: string) => Number(rows.find((r) => r.kind === kind)?.n ?? 0);
  const pipeline = n('outbox');
  const work: WaitingWork[] = [{ role: 'steps', count: pipeline, what: 'pipeline messages' }];
  if (transport === 'redis') work.push({ role: 'relay', count: pipeline, what: 'pipeline messages' });
  work.push({ role: 'deliveries', count: n('webhooks') + n('emails'), what: 'webhook deliveries and emails' });
  return work;
}

/**
 * The rule: work is unattended when some of it is due and no registered worker that is alive has
 * the role that takes it. It holds the moment the last such worker is gone, whatever the age of the
 * work, so a dead worker is reported at once rather than once a backlog has grown old.
 */
export function findUnattendedWork(work: readonly WaitingWork[], workers: readonly WorkerStats[]): UnattendedWork[] {
  return work
    .filter((w) => w.count > 0 && !workers.some((x) => x.state === 'alive' && x.roles.includes(w.role)))
    .map((w) => ({
      ...w,
      gone: workers
        .filter((x) => x.state === 'gone' && x.roles.includes(w.role))
        .map((x) => ({ id: x.id, host: x.host, pid: x.pid, lastSeenAt: x.lastSeenAt })),
    }));
}

const ONE: Record<WorkRole, string> = { steps: 'pipeline message', relay: 'pipeline message', deliveries: 'webhook delivery or email' };

/** `1 pipeline message`, `3 pipeline messages`, `≥ 10000 …` at the count's cap. */
export function countOfWork(w: Pick<WaitingWork, 'role' | 'count' | 'what'>): string {
  if (w.count >= SCAN_CAP) return `≥ ${w.count} ${w.what}`;
  return `${w.count} ${w.count === 1 ? ONE[w.role] : w.what}`;
}

/** One line for unattended work, naming the gone workers and what to do. */
export function describeUnattended(u: UnattendedWork, now: number): string {
  const gone =
    u.gone.length === 0
      ? 'no worker with that role is registered'
      : `gone: ${u.gone
          .slice(0, 3)
          .map((g) => `${g.id} (${g.host} pid ${g.pid}, last seen ${formatDuration(Math.max(0, now - Date.parse(g.lastSeenAt)))} ago)`)
          .join(', ')}${u.gone.length > 3 ? ` and ${u.gone.length - 3} more` : ''}`;
  const start = u.role === 'deliveries' ? 'start buildflow worker (or serve) with deliveries' : u.role === 'relay' ? 'start buildflow worker (or serve) with the relay' : 'start buildflow worker (or serve)';
  return `${countOfWork(u)} due and no live worker takes ${u.count === 1 ? 'it' : 'them'} (role ${u.role}; ${gone}): ${start}`;
}
