import { resolve } from 'node:path';
import { Type, type TSchema } from '@sinclair/typebox';
import envSchema from 'env-schema';
import { DURATION_EXPECTED, parseDuration } from './duration.js';
import { BuildflowError } from './errors.js';
import { settingList, type ResolvedSettings, type SettingName, type SettingSpec } from './settings.js';
import { parseRetrySchedule } from './webhooks/retry-schedule.js';
import { parseMailFrom } from './mail/mail-address.js';
import { parseAcceptedChecks, type AcceptableCheck } from './accepted-checks.js';

/**
 * Resolved settings, named for code rather than for the environment: the shape of the settings tree
 * (settings.ts), with customer email absent when BUILDFLOW_SMTP_URL is not set.
 */
export type Config = Omit<ResolvedSettings, 'mail' | 'accept'> & {
  mail: { smtpUrl: string; from: string; concurrency: number } | undefined;
  /** BUILDFLOW_ACCEPT: failing checks reported as accepted rather than as failures. */
  accept: AcceptableCheck[];
};

/** Values that beat the environment, by variable: a command's flags. */
export type ConfigOverrides = Partial<Record<SettingName, string | number | undefined>>;

/** The TypeBox schema of one setting's text, as env-schema checks and coerces it. */
function schemaOf(spec: SettingSpec): TSchema {
  const opts = {
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    ...(spec.min !== undefined ? { minimum: spec.min } : {}),
    ...(spec.max !== undefined ? { maximum: spec.max } : {}),
    ...(spec.above !== undefined ? { exclusiveMinimum: spec.above } : {}),
  };
  const text = {
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    ...(spec.minLength !== undefined ? { minLength: spec.minLength } : {}),
    ...(spec.maxLength !== undefined ? { maxLength: spec.maxLength } : {}),
    ...(spec.pattern !== undefined ? { pattern: spec.pattern } : {}),
  };
  let schema: TSchema;
  switch (spec.kind) {
    case 'int':
      schema = Type.Integer(opts);
      break;
    case 'number':
      schema = Type.Number(opts);
      break;
    case 'enum':
      schema = Type.Union(spec.values!.map((v) => Type.Literal(v)), text);
      break;
    case 'flag':
      schema = Type.Union(['0', '1', 'true', 'false'].map((v) => Type.Literal(v)), text);
      break;
    default:
      schema = Type.String(text);
  }
  return spec.default === undefined ? Type.Optional(schema) : schema;
}

const LEAVES = settingList();
// Durations are read by parseDuration (a unit, or the old bare number), not by the schema.
const ConfigSchema = Type.Object(Object.fromEntries(LEAVES.filter((l) => l.spec.kind !== 'duration').map((l) => [l.spec.env, schemaOf(l.spec)])));

const invalid = (message: string) => new BuildflowError('CONFIG_INVALID', `invalid configuration: ${message}`);

function durationOf(spec: SettingSpec, value: unknown): number {
  const ms = typeof value === 'number' ? value * (spec.bareUnit === 's' ? 1000 : 1) : parseDuration(String(value), spec.bareUnit);
  if (ms === undefined || !Number.isFinite(ms) || (spec.min !== undefined && ms < spec.min) || (spec.max !== undefined && ms > spec.max)) {
    throw invalid(`${spec.env} must be a duration from ${spec.min ?? 0}ms to ${spec.max}ms, not ${String(value)} (${DURATION_EXPECTED})`);
  }
  return ms;
}

/** A checked value as code uses it. */
function resolveValue(spec: SettingSpec, value: unknown): unknown {
  if (value === undefined) return undefined;
  switch (spec.kind) {
    case 'path':
      return resolve(value as string);
    case 'flag':
      return value === '1' || value === 'true';
    case 'schedule':
      return parseRetrySchedule(value as string);
    case 'duration':
      return durationOf(spec, value);
    default:
      return value;
  }
}

/**
 * Reads the configuration from `env` (default `process.env`) with `overrides` on top.
 * @throws BuildflowError CONFIG_INVALID naming the offending variable.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const data: Record<string, unknown> = {};
  for (const { spec } of LEAVES) {
    if (env[spec.env] !== undefined && env[spec.env] !== '') data[spec.env] = env[spec.env];
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) data[key] = value;
  }
  let checked: Record<string, unknown>;
  try {
    checked = envSchema<Record<string, unknown>>({ schema: ConfigSchema, data: { ...data }, env: false });
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const tree: Record<string, unknown> = {};
  for (const { path, spec } of LEAVES) {
    const raw = spec.kind === 'duration' ? (data[spec.env] ?? spec.default) : checked[spec.env];
    let node = tree;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = resolveValue(spec, raw);
  }
  const settings = tree as ResolvedSettings;
  if ((settings.scryptCost & (settings.scryptCost - 1)) !== 0) throw invalid('BUILDFLOW_SCRYPT_COST must be a power of two');
  return { ...settings, mail: mailOf(settings.mail), accept: parseAcceptedChecks(settings.accept) };
}

function mailOf(mail: ResolvedSettings['mail']): Config['mail'] {
  if (mail.smtpUrl === undefined) return undefined;
  if (mail.from === undefined) throw invalid('BUILDFLOW_MAIL_FROM is required with BUILDFLOW_SMTP_URL');
  return { smtpUrl: checkSmtpUrl(mail.smtpUrl), from: parseMailFrom(mail.from), concurrency: mail.concurrency };
}

function checkSmtpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('BUILDFLOW_SMTP_URL is not a valid URL');
  }
  if (!url.hostname) throw invalid('BUILDFLOW_SMTP_URL has no host');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) throw invalid('BUILDFLOW_SMTP_URL has an invalid port');
  return value;
}

