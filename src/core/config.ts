import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import envSchema from 'env-schema';
import { DEFAULT_API_URL, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from './client-config.js';
import { BuildflowError } from './errors.js';
import { SETTING_DEFAULTS } from './setting-defaults.js';
import { RETRY_SCHEDULE_PATTERN, parseRetrySchedule } from './webhooks/retry-schedule.js';
import { parseMailFrom } from './mail/mail-address.js';

/**
 * Every setting of every command, read from `BUILDFLOW_*` env vars. Commands pass their flags as
 * overrides, so a flag beats an env var beats the default.
 */
export const ConfigSchema = Type.Object({
  BUILDFLOW_DATA_DIR: Type.String({ default: SETTING_DEFAULTS.BUILDFLOW_DATA_DIR, minLength: 1 }),
  // postgres://… selects Postgres instead of the embedded SQLite file.
  BUILDFLOW_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  // Connections each process keeps to Postgres; size so that (serve + worker processes) × this stays under max_connections.
  BUILDFLOW_DATABASE_POOL_MAX: Type.Integer({ default: 10, minimum: 1, maximum: 500 }),
  // redis://… makes workers consume from bee-queue queues fed by the outbox relay, and caches product reads.
  BUILDFLOW_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  // Prefix of every Redis key, so deployments (and test runs) sharing one Redis stay apart.
  BUILDFLOW_REDIS_PREFIX: Type.String({ default: 'buildflow', minLength: 1, pattern: '^[A-Za-z0-9_.:-]+$' }),
  // How often a relay looks for unpublished outbox rows when nothing in its process woke it.
  BUILDFLOW_RELAY_POLL_MS: Type.Integer({ default: 50, minimum: 5, maximum: 60_000 }),
  // A published message still pending after this long is published again (Redis lost it, or it was never sent).
  BUILDFLOW_REPUBLISH_AFTER_MS: Type.Integer({ default: 30_000, minimum: 100 }),
  // How long a cached product read may be served; every stock or price change also invalidates it at once.
  BUILDFLOW_CACHE_TTL_MS: Type.Integer({ default: 10_000, minimum: 0, maximum: 24 * 60 * 60_000 }),
  // HTTP: a socket with no traffic this long is closed (Node's own default never closes it).
  BUILDFLOW_HTTP_CONNECTION_TIMEOUT_MS: Type.Integer({ default: 60_000, minimum: 100, maximum: 3_600_000 }),
  // HTTP: a client must deliver its whole request (headers and body) within this time, or gets 408:
  // a client that trickles its request cannot hold a connection (Node's default allows 300 s).
  BUILDFLOW_HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 100, maximum: 600_000 }),
  // HTTP: an idle keep-alive connection is closed after this long; above the 60 s idle timeout of
  // common load balancers, so they never send on a connection the server is closing (Fastify's choice).
  BUILDFLOW_HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ default: 72_000, minimum: 100, maximum: 3_600_000 }),
  BUILDFLOW_HOST: Type.String({ default: SETTING_DEFAULTS.BUILDFLOW_HOST, minLength: 1 }),
  BUILDFLOW_PORT: Type.Integer({ default: SETTING_DEFAULTS.BUILDFLOW_PORT, minimum: 0, maximum: 65535 }),
  // Where the CLI's HTTP commands find the API; they read it (and the timeout) through loadClientConfig.
  BUILDFLOW_URL: Type.String({ default: DEFAULT_API_URL, minLength: 1 }),
  // Seconds the CLI waits for each answer from the API before it says the server did not answer.
  BUILDFLOW_TIMEOUT: Type.Number({ default: DEFAULT_TIMEOUT_SECONDS, exclusiveMinimum: 0, maximum: MAX_TIMEOUT_SECONDS }),
  BUILDFLOW_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16 })),
  BUILDFLOW_PAYMENT_DECLINE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
  BUILDFLOW_PAYMENT_LATENCY_MS: Type.Integer({ default: 20, minimum: 0, maximum: 60_000 }),
  BUILDFLOW_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  // A message that fails (or crashes its worker) this many times is dead-lettered.
  BUILDFLOW_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 100 }),
  /** Payments started per second across every worker of the deployment; unset: no limit. */
  BUILDFLOW_PAY_RATE_PER_S: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  // Reserved stock is released if payment has not started within this time.
  BUILDFLOW_RESERVATION_TTL_MS: Type.Integer({ default: 15 * 60_000, minimum: 1000 }),
  // An order that sits in a non-final state with no queued work this long is re-driven.
  BUILDFLOW_STUCK_AFTER_MS: Type.Integer({ default: 60_000, minimum: 100 }),
  BUILDFLOW_SWEEP_INTERVAL_MS: Type.Integer({ default: 5_000, minimum: 50 }),
  BUILDFLOW_WORKER_CONCURRENCY: Type.Integer({ default: SETTING_DEFAULTS.BUILDFLOW_WORKER_CONCURRENCY, minimum: 1, maximum: 64 }),
  // How long a worker's claim on a message holds; a crashed worker's messages wait this long to be retaken.
  BUILDFLOW_WORKER_LEASE_MS: Type.Integer({ default: 30_000, minimum: 500 }),
  BUILDFLOW_MAX_ITEMS: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
  // production: the server refuses to start without a strong BUILDFLOW_TOKEN_SECRET (and a weak scrypt cost).
  BUILDFLOW_ENV: Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }),
  // Key of the HMAC under which sign-in tokens are stored; in development generated into <data dir>/token-secret.
  BUILDFLOW_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  BUILDFLOW_TOKEN_TTL_MS: Type.Integer({ default: 60 * 60_000, minimum: 1000, maximum: 30 * 24 * 60 * 60_000 }),
  // scrypt N (a power of two); OWASP recommends at least 2^17 with r=8, p=1. Tests lower it.
  BUILDFLOW_SCRYPT_COST: Type.Integer({ default: 2 ** 17, minimum: 2 ** 10, maximum: 2 ** 20 }),
  // Most orders one customer may hold in pending/reserved at once (they hold, or are about to hold, stock).
  BUILDFLOW_MAX_OPEN_ORDERS: Type.Integer({ default: 5, minimum: 1, maximum: 10_000 }),
  // Bearer key a carrier uses to post shipment updates; unset: only the admin can.
  BUILDFLOW_CARRIER_KEY: Type.Optional(Type.String({ minLength: 16 })),
  // Sign-in attempts per minute, per account and per client address.
  BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT: Type.Integer({ default: 10, minimum: 1 }),
  BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS: Type.Integer({ default: 50, minimum: 1 }),
  // Requests per minute one customer may make, so no customer can exhaust the API for the others.
  BUILDFLOW_CUSTOMER_RATE_LIMIT: Type.Integer({ default: 600, minimum: 1 }),
  // Bearer key a Prometheus scraper uses for /metrics and nothing else; the admin key works too.
  BUILDFLOW_METRICS_KEY: Type.Optional(Type.String({ minLength: 16 })),
  // `buildflow worker` serves /metrics on this port when set (serve has /metrics on its own port).
  BUILDFLOW_METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  BUILDFLOW_METRICS_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  // Stats: a product with this many or fewer units available counts as low on stock.
  BUILDFLOW_LOW_STOCK_MARK: Type.Integer({ default: 5, minimum: 0 }),
  // Stats: the stock-vs-ledger check reads the whole ledger, so it runs at most this often (only while someone polls).
  BUILDFLOW_STATS_STOCK_CHECK_MS: Type.Integer({ default: 60_000, minimum: 1000 }),
  // How often worker processes heartbeat into the registry; three missed heartbeats show a worker as gone.
  BUILDFLOW_WORKER_HEARTBEAT_MS: Type.Integer({ default: 5_000, minimum: 100, maximum: 600_000 }),
  // CLI: time between two polls of `buildflow dashboard` (never less than a second: the server computes once per second).
  BUILDFLOW_DASHBOARD_INTERVAL_MS: Type.Integer({ default: 2_000, minimum: 1000, maximum: 3_600_000 }),
  // 1: webhook URLs may point at loopback, private and link-local addresses (tests, on-premises receivers).
  BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: Type.Union(['0', '1', 'true', 'false'].map((v) => Type.Literal(v)), { default: '0' }),
  // One webhook attempt (connect, headers and body) gives up after this long.
  BUILDFLOW_WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  // Delay before each attempt, comma-separated durations (ms, or with s/m/h); jittered ±20 %. After the last, the delivery is dead.
  BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: Type.String({ default: '0,5s,5m,30m,2h,5h,10h,10h', pattern: RETRY_SCHEDULE_PATTERN }),
  // An endpoint that has failed without a single success for this long is disabled.
  BUILDFLOW_WEBHOOK_DISABLE_AFTER_MS: Type.Integer({ default: 5 * 24 * 60 * 60_000, minimum: 1000 }),
  // Webhook deliveries in flight per worker process, apart from the pipeline's own concurrency.
  BUILDFLOW_WEBHOOK_CONCURRENCY: Type.Integer({ default: 8, minimum: 1, maximum: 256 }),
  // smtp://user:pass@host:port or smtps://…: customers get an email per notification.
  BUILDFLOW_SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://[^/?#]+' })),
  // The From address of customer emails; required with BUILDFLOW_SMTP_URL.
  BUILDFLOW_MAIL_FROM: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
  // Emails in flight per worker process.
  BUILDFLOW_MAIL_CONCURRENCY: Type.Integer({ default: 2, minimum: 1, maximum: 64 }),
});

type RawConfig = Static<typeof ConfigSchema>;

/** Resolved settings, named for code rather than for the environment. */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  redis: { url: string | undefined; prefix: string; relayPollMs: number; republishAfterMs: number; cacheTtlMs: number };
  host: string;
  port: number;
  url: string;
  http: { connectionTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  adminKey: string | undefined;
  payment: { declineRate: number; latencyMs: number; ratePerS: number | undefined };
  logLevel: string;
  maxAttempts: number;
  reservationTtlMs: number;
  stuckAfterMs: number;
  sweepIntervalMs: number;
  workerConcurrency: number;
  workerLeaseMs: number;
  maxItemsPerOrder: number;
  env: 'development' | 'production';
  tokenSecret: string | undefined;
  tokenTtlMs: number;
  scryptCost: number;
  maxOpenOrders: number;
  carrierKey: string | undefined;
  rateLimits: { signinPerAccount: number; signinPerAddress: number; perCustomer: number };
  metrics: { key: string | undefined; port: number | undefined; host: string };
  stats: { lowStockMark: number; stockCheckIntervalMs: number; heartbeatMs: number };
  dashboardIntervalMs: number;
  webhooks: {
    allowPrivate: boolean;
    timeoutMs: number;
    /** Delay before attempt n+1 at index n, ms. */
    retrySchedule: number[];
    disableAfterMs: number;
    concurrency: number;
  };
  /** Customer email; absent when BUILDFLOW_SMTP_URL is not set. */
  mail: { smtpUrl: string; from: string; concurrency: number } | undefined;
}

export type ConfigOverrides = Partial<Record<keyof RawConfig, string | number | undefined>>;

/**
 * Reads the configuration from `env` (default `process.env`) with `overrides` on top.
 * @throws BuildflowError CONFIG_INVALID naming the offending variable.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    if (env[key] !== undefined && env[key] !== '') data[key] = env[key];
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) data[key] = value;
  }
  let raw: RawConfig;
  try {
    raw = envSchema<RawConfig>({ schema: ConfigSchema, data, env: false });
  } catch (err) {
    throw new BuildflowError('CONFIG_INVALID', `invalid configuration: ${(err as Error).message}`);
  }
  if ((raw.BUILDFLOW_SCRYPT_COST & (raw.BUILDFLOW_SCRYPT_COST - 1)) !== 0) {
    throw new BuildflowError('CONFIG_INVALID', 'invalid configuration: BUILDFLOW_SCRYPT_COST must be a power of two');
  }
  let mail: Config['mail'];
  if (raw.BUILDFLOW_SMTP_URL !== undefined) {
    if (raw.BUILDFLOW_MAIL_FROM === undefined) {
      throw new BuildflowError('CONFIG_INVALID', 'invalid configuration: BUILDFLOW_MAIL_FROM is required with BUILDFLOW_SMTP_URL');
    }
    mail = { smtpUrl: checkSmtpUrl(raw.BUILDFLOW_SMTP_URL), from: parseMailFrom(raw.BUILDFLOW_MAIL_FROM), concurrency: raw.BUILDFLOW_MAIL_CONCURRENCY };
  }
  return {
    dataDir: resolve(raw.BUILDFLOW_DATA_DIR),
    databaseUrl: raw.BUILDFLOW_DATABASE_URL,
    databasePoolMax: raw.BUILDFLOW_DATABASE_POOL_MAX,
    redis: {
      url: raw.BUILDFLOW_REDIS_URL,
      prefix: raw.BUILDFLOW_REDIS_PREFIX,
      relayPollMs: raw.BUILDFLOW_RELAY_POLL_MS,
      republishAfterMs: raw.BUILDFLOW_REPUBLISH_AFTER_MS,
      cacheTtlMs: raw.BUILDFLOW_CACHE_TTL_MS,
    },
    host: raw.BUILDFLOW_HOST,
    port: raw.BUILDFLOW_PORT,
    http: {
      connectionTimeoutMs: raw.BUILDFLOW_HTTP_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: raw.BUILDFLOW_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: raw.BUILDFLOW_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    url: raw.BUILDFLOW_URL,
    adminKey: raw.BUILDFLOW_ADMIN_KEY,
    payment: { declineRate: raw.BUILDFLOW_PAYMENT_DECLINE_RATE, latencyMs: raw.BUILDFLOW_PAYMENT_LATENCY_MS, ratePerS: raw.BUILDFLOW_PAY_RATE_PER_S },
    logLevel: raw.BUILDFLOW_LOG_LEVEL,
    maxAttempts: raw.BUILDFLOW_MAX_ATTEMPTS,
    reservationTtlMs: raw.BUILDFLOW_RESERVATION_TTL_MS,
    stuckAfterMs: raw.BUILDFLOW_STUCK_AFTER_MS,
    sweepIntervalMs: raw.BUILDFLOW_SWEEP_INTERVAL_MS,
    workerConcurrency: raw.BUILDFLOW_WORKER_CONCURRENCY,
    workerLeaseMs: raw.BUILDFLOW_WORKER_LEASE_MS,
    maxItemsPerOrder: raw.BUILDFLOW_MAX_ITEMS,
    env: raw.BUILDFLOW_ENV as 'development' | 'production',
    tokenSecret: raw.BUILDFLOW_TOKEN_SECRET,
    tokenTtlMs: raw.BUILDFLOW_TOKEN_TTL_MS,
    scryptCost: raw.BUILDFLOW_SCRYPT_COST,
    maxOpenOrders: raw.BUILDFLOW_MAX_OPEN_ORDERS,
    carrierKey: raw.BUILDFLOW_CARRIER_KEY,
    rateLimits: {
      signinPerAccount: raw.BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT,
      signinPerAddress: raw.BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS,
      perCustomer: raw.BUILDFLOW_CUSTOMER_RATE_LIMIT,
    },
    metrics: { key: raw.BUILDFLOW_METRICS_KEY, port: raw.BUILDFLOW_METRICS_PORT, host: raw.BUILDFLOW_METRICS_HOST },
    stats: {
      lowStockMark: raw.BUILDFLOW_LOW_STOCK_MARK,
      stockCheckIntervalMs: raw.BUILDFLOW_STATS_STOCK_CHECK_MS,
      heartbeatMs: raw.BUILDFLOW_WORKER_HEARTBEAT_MS,
    },
    dashboardIntervalMs: raw.BUILDFLOW_DASHBOARD_INTERVAL_MS,
    webhooks: {
      allowPrivate: raw.BUILDFLOW_WEBHOOK_ALLOW_PRIVATE === '1' || raw.BUILDFLOW_WEBHOOK_ALLOW_PRIVATE === 'true',
      timeoutMs: raw.BUILDFLOW_WEBHOOK_TIMEOUT_MS,
      retrySchedule: parseRetrySchedule(raw.BUILDFLOW_WEBHOOK_RETRY_SCHEDULE),
      disableAfterMs: raw.BUILDFLOW_WEBHOOK_DISABLE_AFTER_MS,
      concurrency: raw.BUILDFLOW_WEBHOOK_CONCURRENCY,
    },
    mail,
  };
}

function checkSmtpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BuildflowError('CONFIG_INVALID', 'invalid configuration: BUILDFLOW_SMTP_URL is not a valid URL');
  }
  if (!url.hostname) throw new BuildflowError('CONFIG_INVALID', 'invalid configuration: BUILDFLOW_SMTP_URL has no host');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) {
    throw new BuildflowError('CONFIG_INVALID', 'invalid configuration: BUILDFLOW_SMTP_URL has an invalid port');
  }
  return value;
}
