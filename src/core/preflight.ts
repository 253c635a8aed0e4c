import type { Config } from './config.js';
import { closeStorage, openDatabase } from './doctor/database-checks.js';
import { errorLine, redactUrl } from './doctor/check.js';
import { probeTcp, tcpAddress } from './doctor/tcp-probe.js';
import { BuildflowError } from './errors.js';

/** Bound on each probe: a server that does not answer within it is unreachable for a starting process. */
export const PREFLIGHT_TIMEOUT_MS = 5_000;

/** The servers a command needs; each is checked only when the configuration names it. */
export interface PreflightNeeds {
  /** Postgres, when BUILDFLOW_DATABASE_URL is set (SQLite is a file the command creates or opens). */
  database?: boolean;
  /** Redis, when BUILDFLOW_REDIS_URL is set. */
  redis?: boolean;
  /** The SMTP server, when BUILDFLOW_SMTP_URL is set. */
  smtp?: boolean;
}

/**
 * Checks, before a command opens its deployment, that each server it needs answers: Postgres with
 * one real connection and query (so a wrong password or a missing database is caught too, by the
 * same code as doctor's `database` check), Redis and SMTP with a TCP probe. The first that does not
 * answer throws one line naming the server, its URL without credentials and the variable that set
 * it, as `UNAVAILABLE` (CLI exit 5).
 * @throws BuildflowError UNAVAILABLE
 */
export async function preflight(config: Config, needs: PreflightNeeds, timeoutMs = PREFLIGHT_TIMEOUT_MS): Promise<void> {
  const probes: Promise<void>[] = [];
  if (needs.database && config.databaseUrl) probes.push(checkPostgres(config, timeoutMs));
  if (needs.redis && config.redis.url) probes.push(checkTcp('Redis', config.redis.url, 6379, 'BUILDFLOW_REDIS_URL', timeoutMs));
  if (needs.smtp && config.mail) {
    const secure = config.mail.smtpUrl.startsWith('smtps:');
    probes.push(checkTcp('the SMTP server', config.mail.smtpUrl, secure ? 465 : 587, 'BUILDFLOW_SMTP_URL', timeoutMs));
  }
  // All at once, reported in the order above: the database first.
  const results = await Promise.allSettled(probes);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

async function checkPostgres(config: Config, timeoutMs: number): Promise<void> {
  const opened = await openDatabase(config, timeoutMs);
  await closeStorage(opened.storage, timeoutMs);
  // doctor's detail already names Postgres, the URL without credentials and BUILDFLOW_DATABASE_URL.
  if (opened.check.status === 'fail') throw new BuildflowError('UNAVAILABLE', opened.check.detail);
}

async function checkTcp(what: string, url: string, defaultPort: number, variable: string, timeoutMs: number): Promise<void> {
  const address = tcpAddress(url, defaultPort);
  if (!address) return; // a Unix socket: its client reports what it finds
  try {
    await probeTcp(address.host, address.port, timeoutMs);
  } catch (err) {
    throw new BuildflowError('UNAVAILABLE', `cannot connect to ${what} at ${redactUrl(url)}: ${errorLine(err)} (check ${variable} and that the server is up)`);
  }
}
