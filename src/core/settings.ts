/**
 * Every setting of every command, written once: its variable, its kind, its bounds, its default and
 * what it means. From this tree come the checked schema and the {@link Config} type (config.ts), the
 * defaults `--help` names (cli/setting-help.ts), and the README's configuration table
 * (settings-table.ts, `npm run docs:config`; a test fails when the README drifts from it).
 *
 * The tree's shape is the shape of {@link Config}: a leaf is a setting, an object is a group. To add a
 * setting, add one leaf. This module loads no package, so a command's `--help` can read defaults without
 * loading the config loader (env-schema, TypeBox).
 */
import { RETRY_SCHEDULE_PATTERN } from './webhooks/retry-schedule.js';

/** How a setting's text is read. `duration`: "5s", "500ms", "2m", or a bare number in `bareUnit`. */
export type SettingKind = 'string' | 'int' | 'number' | 'enum' | 'flag' | 'path' | 'schedule' | 'duration';

export interface SettingSpec {
  readonly env: string;
  readonly kind: SettingKind;
  /** Absent: the setting is optional (undefined unless set). */
  readonly default?: string | number;
  readonly min?: number;
  readonly max?: number;
  /** Numbers: the value must be above this. */
  readonly above?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly values?: readonly string[];
  /** Durations: unit of a bare number, and the unit of the resolved value. */
  readonly bareUnit?: 's' | 'ms';
  /** What it means, as the README's configuration table says it. */
  readonly doc: string;
  /** The README's default cell when the default is not a plain value (generated, derived, unset …). */
  readonly shown?: string;
}

/** A setting named `N` whose resolved value is a `T` (the phantom field exists only for the type). */
export interface Setting<N extends string, T> extends SettingSpec {
  readonly env: N;
  readonly __value: T;
}

type Opts = Omit<SettingSpec, 'env' | 'kind' | 'default' | 'values'>;
const leaf = <N extends string, T>(env: N, kind: SettingKind, o: Opts & { default?: string | number; values?: readonly string[] }) =>
  ({ env, kind, ...o }) as unknown as Setting<N, T>;

const int = <N extends string>(env: N, o: Opts & { default: number }) => leaf<N, number>(env, 'int', o) as Setting<N, number> & { readonly default: number };
const optInt = <N extends string>(env: N, o: Opts) => leaf<N, number | undefined>(env, 'int', o);
const num = <N extends string>(env: N, o: Opts & { default: number }) => leaf<N, number>(env, 'number', o);
const str = <N extends string>(env: N, o: Opts & { default: string }) => leaf<N, string>(env, 'string', o) as Setting<N, string> & { readonly default: string };
const optStr = <N extends string>(env: N, o: Opts) => leaf<N, string | undefined>(env, 'string', o);
const oneOf = <N extends string, V extends string>(env: N, values: readonly V[], o: Opts & { default: V }) =>
  leaf<N, V>(env, 'enum', { ...o, values });
const flag = <N extends string>(env: N, o: Opts & { default: '0' | '1' }) => leaf<N, boolean>(env, 'flag', o);
const path = <N extends string>(env: N, o: Opts & { default: string }) => leaf<N, string>(env, 'path', o) as Setting<N, string> & { readonly default: string };
const schedule = <N extends string>(env: N, o: Opts & { default: string }) => leaf<N, number[]>(env, 'schedule', o);
/** A duration resolved to milliseconds. */
const durationMs = <N extends string>(env: N, o: Opts & { default: string; bareUnit: 's' | 'ms'; min: number; max: number }) =>
  leaf<N, number>(env, 'duration', o) as Setting<N, number> & { readonly default: string; readonly bareUnit: 's' | 'ms'; readonly min: number; readonly max: number };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const SETTINGS = {
  dataDir: path('BUILDFLOW_DATA_DIR', { default: '.buildflow', minLength: 1, doc: 'directory of the SQLite database and the generated admin key' }),
  // A list, parsed by config.ts (accepted-checks.ts), which refuses a name that cannot be accepted.
  accept: optStr('BUILDFLOW_ACCEPT', {
    doc: 'checks this deployment accepts knowingly, comma-separated (`redis-persistence`, `redis-eviction`): doctor reports them as warnings and the dashboard raises no alert for them',
    shown: 'none',
  }),
  databaseUrl: optStr('BUILDFLOW_DATABASE_URL', {
    pattern: '^postgres(ql)?://',
    doc: '`postgres://…` stores everything in Postgres instead of SQLite (see Scale-out)',
  }),
  // Size so that (serve + worker processes) × this stays under Postgres's max_connections.
  databasePoolMax: int('BUILDFLOW_DATABASE_POOL_MAX', { default: 10, min: 1, max: 500, doc: 'Postgres connections per process' }),
  // Named statements live in the server session, which a transaction-pooling proxy does not keep.
  databasePreparedStatements: oneOf('BUILDFLOW_DATABASE_PREPARED_STATEMENTS', ['on', 'off'] as const, {
    default: 'on',
    doc: '`off` behind a transaction-pooling proxy that does not keep named prepared statements (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`): every statement is then sent unnamed (see Behind PgBouncer)',
  }),
  redis: {
    url: optStr('BUILDFLOW_REDIS_URL', {
      pattern: '^rediss?://',
      doc: '`redis://…` (or `rediss://`): workers take batches of outbox messages from a bee-queue queue fed by the outbox relay, and product reads are cached in Redis',
    }),
    prefix: str('BUILDFLOW_REDIS_PREFIX', {
      default: 'buildflow',
      minLength: 1,
      pattern: '^[A-Za-z0-9_.:-]+$',
      doc: 'prefix of every Redis key, so deployments sharing one Redis stay apart',
    }),
    relayPollMs: int('BUILDFLOW_RELAY_POLL_MS', {
      default: 50,
      min: 5,
      max: MINUTE,
      doc: 'how often a relay looks for new outbox rows when nothing in its own process woke it',
    }),
    republishAfterMs: int('BUILDFLOW_REPUBLISH_AFTER_MS', {
      default: 30_000,
      min: 100,
      doc: 'a published message still pending (and not leased) after this long is published again — what brings back jobs Redis lost',
    }),
    cacheTtlMs: int('BUILDFLOW_CACHE_TTL_MS', {
      default: 10_000,
      min: 0,
      max: DAY,
      doc: 'longest a cached product read is served; every committed stock or price change also drops it at once (`0`: no caching)',
    }),
  },
  host: str('BUILDFLOW_HOST', { default: '127.0.0.1', minLength: 1, doc: 'address `serve` listens on' }),
  port: int('BUILDFLOW_PORT', { default: 3000, min: 0, max: 65535, doc: 'port `serve` listens on (`0`: any free port)' }),
  http: {
    // Node's own default never closes an idle socket.
    connectionTimeoutMs: int('BUILDFLOW_HTTP_CONNECTION_TIMEOUT_MS', {
      default: 60_000,
      min: 100,
      max: HOUR,
      doc: 'a socket with no traffic this long is closed',
    }),
    // Node's default allows 300 s, so a client that trickles its request could hold a connection.
    requestTimeoutMs: int('BUILDFLOW_HTTP_REQUEST_TIMEOUT_MS', {
      default: 30_000,
      min: 100,
      max: 10 * MINUTE,
      doc: 'a client must deliver its whole request within this time, or gets `408` and the connection is closed (a client that trickles its request cannot hold a connection)',
    }),
    // Above the 60 s idle timeout of common load balancers, so they never send on a connection the
    // server is closing (Fastify's choice).
    keepAliveTimeoutMs: int('BUILDFLOW_HTTP_KEEP_ALIVE_TIMEOUT_MS', {
      default: 72_000,
      min: 100,
      max: HOUR,
      doc: 'an idle keep-alive connection is closed after this long (above the 60 s idle timeout of common load balancers)',
    }),
  },
  url: str('BUILDFLOW_URL', { default: 'http://127.0.0.1:3000', minLength: 1, doc: 'CLI: where the HTTP commands find the server' }),
  // Intake answers in milliseconds; a few seconds tells a dead server from a busy one.
  timeoutMs: durationMs('BUILDFLOW_TIMEOUT', {
    default: '5s',
    bareUnit: 's',
    min: 1,
    max: HOUR,
    doc: 'CLI: how long to wait for each answer from the server before saying `no answer from URL within N s` (exit 5); a duration such as `5s` or `500ms` (a bare number is seconds)',
  }),
  adminKey: optStr('BUILDFLOW_ADMIN_KEY', {
    minLength: 16,
    shown: 'generated',
    doc: 'bearer key for admin routes (≥ 16 chars); if unset, generated once into `<data dir>/admin-key` (0600)',
  }),
  payment: {
    declineRate: num('BUILDFLOW_PAYMENT_DECLINE_RATE', { default: 0, min: 0, max: 1, doc: 'simulated provider: probability (0..1) that an authorization is declined' }),
    latencyMs: int('BUILDFLOW_PAYMENT_LATENCY_MS', { default: 20, min: 0, max: MINUTE, doc: 'simulated provider: latency of each call' }),
    // A token bucket row in the database, so the limit holds across every worker process.
    ratePerS: optInt('BUILDFLOW_PAY_RATE_PER_S', {
      min: 1,
      max: 100_000,
      doc: 'payments started per second across every worker of the deployment, so a recovering provider is not hit by the whole backlog at once; orders over the rate wait at pay',
      shown: 'no limit',
    }),
    failureRate: num('BUILDFLOW_PAYMENT_FAILURE_RATE', { default: 0, min: 0, max: 1, doc: 'simulated provider: probability (0..1) that a call fails before acting' }),
    timeoutRate: num('BUILDFLOW_PAYMENT_TIMEOUT_RATE', {
      default: 0,
      min: 0,
      max: 1,
      doc: 'simulated provider: probability (0..1) that a call acts, then times out (the retry under the same key must not move money twice)',
    }),
    answerDelayMs: int('BUILDFLOW_PAYMENT_ANSWER_DELAY_MS', {
      default: 0,
      min: 0,
      max: MINUTE,
      doc: 'simulated provider: time between acting and answering, during which the money has moved and the caller does not know yet (a crash then is retried under the same key)',
    }),
    captureAt: oneOf('BUILDFLOW_CAPTURE_AT', ['confirm', 'shipped'] as const, {
      default: 'confirm',
      doc: 'when an authorized payment is captured: when the order is confirmed, or when it is shipped',
    }),
  },
  logLevel: oneOf('BUILDFLOW_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    doc: '`fatal` … `trace`, or `silent`; `debug` adds successful reads and the reason of each 4xx',
  }),
  customerCancelUntil: oneOf('BUILDFLOW_CUSTOMER_CANCEL_UNTIL', ['reserved', 'paid', 'confirmed', 'shipped'] as const, {
    default: 'confirmed',
    doc: 'a customer may cancel their own order until it reaches this status (the admin may cancel any order until it ships); money already taken is voided or refunded',
  }),
  returnWindowDays: int('BUILDFLOW_RETURN_WINDOW_DAYS', {
    default: 30,
    min: 0,
    max: 3650,
    doc: 'a customer may ask to return lines of their own order this many days after it shipped (or was delivered); the admin at any time',
  }),
  maxAttempts: int('BUILDFLOW_MAX_ATTEMPTS', { default: 5, min: 1, max: 100, doc: 'attempts before a message is dead-lettered' }),
  reservationTtlMs: int('BUILDFLOW_RESERVATION_TTL_MS', {
    default: 15 * MINUTE,
    min: 1000,
    doc: 'reserved stock is released if payment has not started by then',
  }),
  stuckAfterMs: int('BUILDFLOW_STUCK_AFTER_MS', {
    default: MINUTE,
    min: 100,
    doc: 'an order idle this long in a non-final state with no queued work is re-driven',
  }),
  sweepIntervalMs: int('BUILDFLOW_SWEEP_INTERVAL_MS', { default: 5_000, min: 50, doc: 'how often the sweeper runs' }),
  workerConcurrency: int('BUILDFLOW_WORKER_CONCURRENCY', {
    default: 2,
    min: 1,
    max: 64,
    doc: 'parallel batches per worker process (embedded: claim loops; Redis: batches run at once, each merging the jobs that arrived together)',
  }),
  // A crashed worker's messages wait this long to be retaken.
  workerLeaseMs: int('BUILDFLOW_WORKER_LEASE_MS', {
    default: 30_000,
    min: 500,
    doc: 'how long a claimed message is held before another worker may take it over',
  }),
  maxItemsPerOrder: int('BUILDFLOW_MAX_ITEMS', { default: 100, min: 1, max: 1000, doc: 'most lines in one order' }),
  env: oneOf('BUILDFLOW_ENV', ['development', 'production'], {
    default: 'development',
    doc: '`production` refuses to start `serve` without a strong `BUILDFLOW_TOKEN_SECRET` or with `BUILDFLOW_SCRYPT_COST` below 2^17',
  }),
  tokenSecret: optStr('BUILDFLOW_TOKEN_SECRET', {
    minLength: 1,
    shown: 'generated (development)',
    doc: 'key of the HMAC under which sign-in tokens are stored (≥ 32 characters, ≥ 12 distinct); in development, if unset, generated once into `<data dir>/token-secret` (0600)',
  }),
  tokenTtlMs: int('BUILDFLOW_TOKEN_TTL_MS', { default: HOUR, min: 1000, max: 30 * DAY, doc: 'lifetime of a sign-in token' }),
  // OWASP recommends N ≥ 2^17 with r=8, p=1. Tests lower it.
  scryptCost: int('BUILDFLOW_SCRYPT_COST', {
    default: 2 ** 17,
    min: 2 ** 10,
    max: 2 ** 20,
    doc: 'scrypt N for password hashes (power of two; r=8, p=1; OWASP minimum is the default)',
  }),
  // Pending and reserved orders hold, or are about to hold, stock.
  maxOpenOrders: int('BUILDFLOW_MAX_OPEN_ORDERS', {
    default: 5,
    min: 1,
    max: 10_000,
    doc: 'most orders one customer may hold in `pending`/`reserved` at once',
  }),
  carrierKey: optStr('BUILDFLOW_CARRIER_KEY', {
    minLength: 16,
    doc: 'bearer key (≥ 16 chars) that may post shipment updates and nothing else; unset: only the admin can',
  }),
  rateLimits: {
    signinPerAccount: int('BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT', { default: 10, min: 1, doc: 'sign-in attempts per minute per email' }),
    signinPerAddress: int('BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS', {
      default: 50,
      min: 1,
      doc: 'sign-in (and, separately, sign-up) attempts per minute per client address',
    }),
    // So that no customer can exhaust the API for the others.
    perCustomer: int('BUILDFLOW_CUSTOMER_RATE_LIMIT', { default: 600, min: 1, doc: 'requests per minute per signed-in customer' }),
  },
  metrics: {
    key: optStr('BUILDFLOW_METRICS_KEY', {
      minLength: 16,
      doc: 'bearer key (≥ 16 chars) that opens `GET /metrics` and nothing else; the admin key opens it too (see Metrics and logs)',
    }),
    port: optInt('BUILDFLOW_METRICS_PORT', {
      min: 0,
      max: 65535,
      doc: '`buildflow worker` serves `/metrics` on this port (`--metrics-port`); unset: no metrics server in the worker (`serve` has `/metrics` on its own port)',
    }),
    host: str('BUILDFLOW_METRICS_HOST', { default: '127.0.0.1', minLength: 1, doc: 'address of the worker\'s `/metrics` server (`--metrics-host`)' }),
  },
  stats: {
    lowStockMark: int('BUILDFLOW_LOW_STOCK_MARK', {
      default: 5,
      min: 0,
      doc: 'stats: a product with this many units available or fewer counts as low on stock',
    }),
    // The check reads the whole ledger, so it runs at most this often, and only while someone polls.
    stockCheckIntervalMs: int('BUILDFLOW_STATS_STOCK_CHECK_MS', {
      default: MINUTE,
      min: 1000,
      doc: 'stats: the stock-vs-ledger check and, with Redis, the Redis setting checks (doctor\'s) run in the background at most this often',
    }),
    heartbeatMs: int('BUILDFLOW_WORKER_HEARTBEAT_MS', {
      default: 5_000,
      min: 100,
      max: 10 * MINUTE,
      doc: 'how often `serve` (with workers) and `worker` heartbeat into the worker registry; three missed heartbeats show a worker as gone (at once when its pid on the same host died); a restart on the same host replaces a gone registration, and any other is forgotten 5 minutes after it went gone',
    }),
  },
  // Never under a second: the server computes the stats once per second.
  dashboardIntervalMs: int('BUILDFLOW_DASHBOARD_INTERVAL_MS', {
    default: 2_000,
    min: 1000,
    max: HOUR,
    doc: 'CLI: time between two polls of `buildflow dashboard` (`--interval`, at least 1 s)',
  }),
  webhooks: {
    allowPrivate: flag('BUILDFLOW_WEBHOOK_ALLOW_PRIVATE', {
      default: '0',
      doc: '`1`: webhook URLs may reach loopback, private, link-local and metadata addresses (tests, on-premises receivers)',
    }),
    timeoutMs: int('BUILDFLOW_WEBHOOK_TIMEOUT_MS', {
      default: 10_000,
      min: 100,
      max: 2 * MINUTE,
      doc: 'one webhook attempt (connect, headers, body) gives up after this long',
    }),
    /** Delay before attempt n+1 at index n, ms. */
    retrySchedule: schedule('BUILDFLOW_WEBHOOK_RETRY_SCHEDULE', {
      default: '0,5s,5m,30m,2h,5h,10h,10h',
      pattern: RETRY_SCHEDULE_PATTERN,
      doc: 'delay before each attempt (ms, or with `s`/`m`/`h`), jittered ±20 %; after the last the delivery is dead. Email retries on the same schedule, then at its last interval until it goes through',
    }),
    disableAfterMs: int('BUILDFLOW_WEBHOOK_DISABLE_AFTER_MS', {
      default: 5 * DAY,
      min: 1000,
      shown: '`432000000` (5 days)',
      doc: 'an endpoint failing without a single success for this long is disabled',
    }),
    concurrency: int('BUILDFLOW_WEBHOOK_CONCURRENCY', {
      default: 8,
      min: 1,
      max: 256,
      doc: 'webhook attempts in flight per worker process (apart from the pipeline\'s)',
    }),
  },
  /** Customer email; config.ts resolves the group to undefined when BUILDFLOW_SMTP_URL is not set. */
  mail: {
    smtpUrl: optStr('BUILDFLOW_SMTP_URL', {
      pattern: '^smtps?://[^/?#]+',
      doc: '`smtp://user:pass@host:port` or `smtps://…`: customers get an email per notification',
    }),
    from: optStr('BUILDFLOW_MAIL_FROM', {
      minLength: 3,
      maxLength: 254,
      doc: 'From address of customer emails (`shop@example.com` or `Shop <shop@example.com>`); required with `BUILDFLOW_SMTP_URL`',
    }),
    concurrency: int('BUILDFLOW_MAIL_CONCURRENCY', { default: 2, min: 1, max: 64, doc: 'emails being sent at once per worker process' }),
  },
  /** Read by the CLI alone, by hand (see readSetting), but checked and documented like every other. */
  cli: {
    token: optStr('BUILDFLOW_TOKEN', { doc: 'CLI: bearer credential to send (a customer token, the admin or the carrier key)' }),
    password: optStr('BUILDFLOW_PASSWORD', { doc: 'CLI: password for `customer create` and `login` (else read from stdin)' }),
    configDir: optStr('BUILDFLOW_CONFIG_DIR', {
      shown: '`$XDG_CONFIG_HOME/buildflow` or `~/.config/buildflow`',
      doc: 'CLI: where `login` keeps `credentials.json`',
    }),
  },
} as const;

type Resolve<S> = S extends Setting<string, infer T> ? T : { -readonly [K in keyof S]: Resolve<S[K]> };
type NameOf<S> = S extends Setting<infer N, unknown> ? N : { [K in keyof S]: NameOf<S[K]> }[keyof S];

/** The settings as the tree resolves them (config.ts narrows the mail group). */
export type ResolvedSettings = Resolve<typeof SETTINGS>;
/** The name of a setting's environment variable. */
export type SettingName = NameOf<typeof SETTINGS>;

const isLeaf = (node: unknown): node is SettingSpec => typeof (node as SettingSpec).env === 'string';

/** Every setting with its path in the tree, in the tree's order. */
export function settingList(tree: object = SETTINGS, at: string[] = []): { path: string[]; spec: SettingSpec }[] {
  const out: { path: string[]; spec: SettingSpec }[] = [];
  for (const [key, node] of Object.entries(tree)) {
    if (isLeaf(node)) out.push({ path: [...at, key], spec: node });
    else out.push(...settingList(node as object, [...at, key]));
  }
  return out;
}

let byName: Map<string, SettingSpec> | undefined;

/** The spec of the setting read from `name`. */
export function setting(name: SettingName): SettingSpec {
  byName ??= new Map(settingList().map(({ spec }) => [spec.env, spec]));
  return byName.get(name)!;
}

/** The default of a setting as a person writes it (help texts, the README). */
export function settingDefault(name: SettingName): string | number | undefined {
  return setting(name).default;
}

/**
 * A setting's text from `env`, for the CLI's light paths that do not load the config loader;
 * an empty variable counts as unset, as in loadConfig.
 */
export function readSetting(name: SettingName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
