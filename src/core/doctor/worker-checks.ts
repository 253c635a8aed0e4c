import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { describeUnattended, findUnattendedWork, readWaitingWork } from '../workers/unattended-work.js';
import { FORGET_AFTER_MS, listWorkers } from '../workers/worker-registry.js';
import { formatDuration, withTimeout, type DoctorCheck } from './check.js';

/**
 * `workers`: work due now against the registered workers that take it, by the rule the stats
 * snapshot and the dashboard share ({@link findUnattendedWork}). Work due and no live worker of
 * its role: fail at once, naming the gone workers. Nothing unattended but some registrations gone
 * (no successor yet): warn. Otherwise ok.
 */
export async function checkWorkers(db: Kysely<Database>, o: { now: number; timeoutMs: number; transport: 'local' | 'redis' }): Promise<DoctorCheck> {
  const [work, workers] = await withTimeout(
    Promise.all([readWaitingWork(db, o.now, o.transport), listWorkers(db, o.now)]),
    o.timeoutMs,
    'the worker registry query',
  );
  const unattended = findUnattendedWork(work, workers);
  const alive = workers.filter((w) => w.state === 'alive');
  const gone = workers.filter((w) => w.state === 'gone');
  const data = {
    alive: alive.length,
    gone: gone.length,
    due: Object.fromEntries(work.map((w) => [w.role, w.count])),
    unattended: unattended.map((u) => ({ role: u.role, count: u.count, gone: u.gone.map((g) => g.id) })),
  };
  if (unattended.length > 0) {
    return { name: 'workers', status: 'fail', detail: unattended.map((u) => describeUnattended(u, o.now)).join('; '), data };
  }
  const roles = [...new Set(alive.flatMap((w) => w.roles))].sort().join(', ');
  const aliveText = alive.length === 0 ? 'no worker registered, and no work is due' : `${alive.length} ${alive.length === 1 ? 'worker' : 'workers'} alive (${roles})`;
  if (gone.length > 0) {
    const names = gone
      .slice(0, 3)
      .map((g) => `${g.id} (${g.host} pid ${g.pid})`)
      .join(', ');
    return {
      name: 'workers',
      status: 'warn',
      detail: `${aliveText}; ${gone.length} gone without stopping: ${names}${gone.length > 3 ? ` and ${gone.length - 3} more` : ''} (a restart on the same host replaces it; otherwise it is forgotten ${formatDuration(FORGET_AFTER_MS)} after it went gone)`,
      data,
    };
  }
  return { name: 'workers', status: 'ok', detail: aliveText, data };
}
