import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, tempDir } from '../cli/harness.js';
import { TEST_POSTGRES_URL } from './backends.js';

/**
 * The PgBouncer cell: BUILDFLOW_TEST_PGBOUNCER=1, set by .ci/run once it has installed Debian's
 * `pgbouncer`. Tests that go through the pooler are skipped without it (the summary line of
 * `npm test`, helpers/backend-summary.ts, says so).
 */
export const PGBOUNCER_BIN = process.env.BUILDFLOW_TEST_PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';
export const pgbouncerCell = process.env.BUILDFLOW_TEST_PGBOUNCER === '1';

/** A private PgBouncer in front of the test Postgres; `url(db)` reaches database `db` through it. */
export interface PgBouncer {
  port: number;
  /** The URL of `directUrl`'s database through this pooler. */
  url(directUrl: string): string;
  /** Kills the pooler (SIGTERM: a shutdown; SIGKILL: a crash; SIGKILL after 5 s in any case) and waits until it is gone. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port (after `kill`) and waits until it serves. */
  start(): Promise<void>;
  /** The pooler's log (stderr), for failure messages. */
  log(): string;
  /** Stops it and removes its files; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts PgBouncer on a free loopback port, in transaction pooling mode, against the test Postgres
 * (trust auth, as the test server has), with its config and user list in a temp dir of its own.
 * PgBouncer refuses to run as root, so as root it is started with `-u nobody`, which must be able
 * to read the config: the directory is made world-readable (it holds no secret).
 */
export async function startPgBouncer(options: { poolSize?: number } = {}): Promise<PgBouncer> {
  accessSync(PGBOUNCER_BIN, constants.X_OK);
  const upstream = new URL(TEST_POSTGRES_URL);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const port = await freePort();
  const tmp = tempDir('buildflow-pgbouncer-');
  chmodSync(tmp.dir, 0o755);
  const ini = join(tmp.dir, 'pgbouncer.ini');
  const users = join(tmp.dir, 'userlist.txt');
  writeFileSync(users, `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    ini,
    [
      '[databases]',
      // Any database name goes to the same-named database upstream, so each test's fresh one works.
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${options.poolSize ?? 20}`,
      // A restarted Postgres or pooler must not leave a client waiting long for a server connection.
      'server_login_retry = 1',
      'query_wait_timeout = 30',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const args = [ini, ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : [])];
  let child: ChildProcess | undefined;
  let log = '';
  let closed = false;

  const kill = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    // SIGTERM is an immediate shutdown in 1.18; newer versions may wait for clients to leave.
    const late = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(late);
  };
  const start = async () => {
    const deadline = Date.now() + 10_000;
    // The old socket can linger a moment after a kill: retry until the port is ours again.
    for (;;) {
      const c = spawn(PGBOUNCER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-20_000)));
      const ready = await untilServing(c, port, deadline);
      if (ready) return;
      await kill('SIGKILL');
      if (Date.now() > deadline) throw new Error(`pgbouncer did not serve on 127.0.0.1:${port} within 10 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  await start();
  return {
    port,
    url(directUrl) {
      const u = new URL(directUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    kill,
    start,
    log: () => log,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await kill('SIGTERM');
      } finally {
        tmp.remove();
      }
    },
  };
}

/** True once a query goes through the pooler on `port`; false when the process exits first. */
async function untilServing(c: ChildProcess, port: number, deadline: number): Promise<boolean> {
  const url = new URL(TEST_POSTGRES_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  while (Date.now() < deadline) {
    if (c.exitCode !== null || c.signalCode !== null) return false;
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 1_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => {});
    }
  }
  return false;
}
