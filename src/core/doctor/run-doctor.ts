import type { Config } from '../config.js';
import { DEFAULTS } from '../defaults.js';
import { CHECK_NAMES, DoctorTimeoutError, errorLine, skipped, type CheckName, type CheckStatus, type DoctorCheck } from './check.js';
import { checkMigrations, closeStorage, openDatabase } from './database-checks.js';
import { checkOutboxBacklog, checkStockReconciliation, checkMoneyReconciliation, checkStuckOrders } from './pipeline-checks.js';
import { checkRedis } from './redis-checks.js';
import { checkWorkers } from './worker-checks.js';
import type { AcceptableCheck } from '../accepted-checks.js';

/** Default bound on each network call (connect, query, command), so doctor never hangs. */
export const DEFAULT_DOCTOR_TIMEOUT_MS = DEFAULTS.doctor.timeoutMs;

/** How {@link runDoctor} measures; both have defaults fit for the CLI. */
export interface DoctorOptions {
  /** Bound on each network call; default {@link DEFAULT_DOCTOR_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The moment ages are measured from, ms since the epoch; default now. */
  now?: number;
  /** Checks accepted knowingly: when they fail they are reported as warnings; default config.accept. */
  accept?: readonly AcceptableCheck[];
}

/** Everything doctor found. */
export interface DoctorReport {
  /** False when any check failed; warnings and skips leave a deployment healthy. */
  healthy: boolean;
  /** The worst status among the checks (`skip` counts as ok). */
  status: 'ok' | 'warn' | 'fail';
  /** One entry per name in {@link CHECK_NAMES}, in that order. */
  checks: DoctorCheck[];
}

/** The checks that need an open, migrated database. */
const NEEDS_SCHEMA = ['outbox-backlog', 'workers', 'stuck-orders', 'stock-reconciliation', 'money-reconciliation'] as const;

/**
 * Checks a deployment: the database reachable and migrated, the outbox backlog, work due with no
 * live worker to take it, orders stuck past
 * `config.stuckAfterMs`, stock against its ledger, and when BUILDFLOW_REDIS_URL is set, Redis
 * reachable and configured so it cannot lose queued jobs (see each check's function for its rule).
 * Opens the database without migrating or creating it. Never throws: whatever goes wrong is a
 * failed check, and checks that depend on it are skipped with the reason.
 */
export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOCTOR_TIMEOUT_MS;
  const now = options.now ?? Date.now();
  const [database, redis] = await Promise.all([
    databaseChecks(config, now, timeoutMs),
    checkRedis(config, timeoutMs).catch((err: unknown) => [failed('redis', 'the Redis check', err)]),
  ]);
  const found = new Map<CheckName, DoctorCheck>([...database, ...redis].map((c) => [c.name, c]));
  const accepted = options.accept ?? config.accept;
  const checks = CHECK_NAMES.map((name) => found.get(name) ?? skipped(name, 'not run')).map((c) => acceptIfListed(c, accepted));
  return summarize(checks);
}

/** A failed check the deployment accepts knowingly becomes a warning that says so. */
export function acceptIfListed(check: DoctorCheck, accepted: readonly string[]): DoctorCheck {
  if (check.status !== 'fail' || !accepted.includes(check.name)) return check;
  return { ...check, status: 'warn', detail: `accepted (BUILDFLOW_ACCEPT or --accept): ${check.detail}`, data: { ...check.data, accepted: true } };
}

/** The report for a list of checks: unhealthy when any failed. */
export function summarize(checks: DoctorCheck[]): DoctorReport {
  const worst = (s: CheckStatus) => checks.some((c) => c.status === s);
  const status = worst('fail') ? 'fail' : worst('warn') ? 'warn' : 'ok';
  return { healthy: status !== 'fail', status, checks };
}

async function databaseChecks(config: Config, now: number, timeoutMs: number): Promise<DoctorCheck[]> {
  const opened = await openDatabase(config, timeoutMs).catch((err: unknown) => ({
    check: failed('database', 'opening the database', err),
    storage: undefined,
    skipReason: 'the database cannot be opened',
  }));
  const { storage } = opened;
  if (!storage) {
    const reason = opened.skipReason ?? 'the database cannot be opened';
    return [opened.check, skipped('migrations', reason), ...NEEDS_SCHEMA.map((n) => skipped(n, reason))];
  }
  try {
    const db = storage.db;
    const migrations = await checkMigrations(db, timeoutMs).catch((err: unknown) => failed('migrations', 'reading the migrations', err));
    // A database with some migrations applied still answers the checks below (they use the first
    // migration's tables); one never migrated has no tables to ask.
    if (migrations.data?.applied === 0) {
      return [opened.check, migrations, ...NEEDS_SCHEMA.map((n) => skipped(n, 'the database is not migrated'))];
    }
    const pipeline = { now, stuckAfterMs: config.stuckAfterMs, timeoutMs };
    const outbox = await checkOutboxBacklog(db, pipeline).catch((err: unknown) => failed('outbox-backlog', 'reading the outbox', err));
    const transport = config.redis.url ? 'redis' : 'local';
    const workers = await checkWorkers(db, { now, timeoutMs, transport }).catch((err: unknown) => failed('workers', 'reading the worker registry', err));
    const stuck = await checkStuckOrders(db, pipeline).catch((err: unknown) => failed('stuck-orders', 'reading the orders', err));
    const stock = await checkStockReconciliation(db, pipeline).catch((err: unknown) => failed('stock-reconciliation', 'reading stock and ledger', err));
    // The payment ledger arrives with a migration: until it is applied there is nothing to add up.
    const money =
      migrations.status === 'ok'
        ? await checkMoneyReconciliation(db, pipeline).catch((err: unknown) => failed('money-reconciliation', 'reading the payment ledger', err))
        : skipped('money-reconciliation', 'migrations are pending');
    return [opened.check, migrations, outbox, workers, stuck, stock, money];
  } finally {
    await closeStorage(storage, timeoutMs);
  }
}

function failed(name: CheckName, what: string, err: unknown): DoctorCheck {
  const slow = err instanceof DoctorTimeoutError || /statement timeout/.test(errorLine(err));
  const hint = slow && name !== 'redis' ? '; is the database overloaded, or a table locked by a long transaction?' : '';
  return { name, status: 'fail', detail: `${what} failed: ${errorLine(err)}${hint}` };
}
