import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import envSchema from 'env-schema';
import { BuildflowError } from './errors.js';

/**
 * Every setting of every command, read from `BUILDFLOW_*` env vars. Commands pass their flags as
 * overrides, so a flag beats an env var beats the default.
 */
export const ConfigSchema = Type.Object({
  BUILDFLOW_DATA_DIR: Type.String({ default: '.buildflow', minLength: 1 }),
  BUILDFLOW_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  BUILDFLOW_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  BUILDFLOW_URL: Type.String({ default: 'http://127.0.0.1:3000', minLength: 1 }),
  BUILDFLOW_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16 })),
  BUILDFLOW_PAYMENT_DECLINE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
  BUILDFLOW_PAYMENT_LATENCY_MS: Type.Integer({ default: 20, minimum: 0, maximum: 60_000 }),
  BUILDFLOW_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  // A message that fails (or crashes its worker) this many times is dead-lettered.
  BUILDFLOW_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 100 }),
  // Reserved stock is released if payment has not started within this time.
  BUILDFLOW_RESERVATION_TTL_MS: Type.Integer({ default: 15 * 60_000, minimum: 1000 }),
  // An order that sits in a non-final state with no queued work this long is re-driven.
  BUILDFLOW_STUCK_AFTER_MS: Type.Integer({ default: 60_000, minimum: 100 }),
  BUILDFLOW_SWEEP_INTERVAL_MS: Type.Integer({ default: 5_000, minimum: 50 }),
  BUILDFLOW_WORKER_CONCURRENCY: Type.Integer({ default: 2, minimum: 1, maximum: 64 }),
  // How long a worker's claim on a message holds; a crashed worker's messages wait this long to be retaken.
  BUILDFLOW_WORKER_LEASE_MS: Type.Integer({ default: 30_000, minimum: 500 }),
  BUILDFLOW_MAX_ITEMS: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
});

type RawConfig = Static<typeof ConfigSchema>;

/** Resolved settings, named for code rather than for the environment. */
export interface Config {
  dataDir: string;
  host: string;
  port: number;
  url: string;
  adminKey: string | undefined;
  payment: { declineRate: number; latencyMs: number };
  logLevel: string;
  maxAttempts: number;
  reservationTtlMs: number;
  stuckAfterMs: number;
  sweepIntervalMs: number;
  workerConcurrency: number;
  workerLeaseMs: number;
  maxItemsPerOrder: number;
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
  return {
    dataDir: resolve(raw.BUILDFLOW_DATA_DIR),
    host: raw.BUILDFLOW_HOST,
    port: raw.BUILDFLOW_PORT,
    url: raw.BUILDFLOW_URL,
    adminKey: raw.BUILDFLOW_ADMIN_KEY,
    payment: { declineRate: raw.BUILDFLOW_PAYMENT_DECLINE_RATE, latencyMs: raw.BUILDFLOW_PAYMENT_LATENCY_MS },
    logLevel: raw.BUILDFLOW_LOG_LEVEL,
    maxAttempts: raw.BUILDFLOW_MAX_ATTEMPTS,
    reservationTtlMs: raw.BUILDFLOW_RESERVATION_TTL_MS,
    stuckAfterMs: raw.BUILDFLOW_STUCK_AFTER_MS,
    sweepIntervalMs: raw.BUILDFLOW_SWEEP_INTERVAL_MS,
    workerConcurrency: raw.BUILDFLOW_WORKER_CONCURRENCY,
    workerLeaseMs: raw.BUILDFLOW_WORKER_LEASE_MS,
    maxItemsPerOrder: raw.BUILDFLOW_MAX_ITEMS,
  };
}
