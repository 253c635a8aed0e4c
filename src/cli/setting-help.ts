import { ConfigSchema } from '../core/config.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../core/pagination.js';

type SettingName = keyof typeof ConfigSchema.properties;

/** `env NAME, default VALUE`, read from the config schema so help never retypes a default. */
export function envDefault(name: SettingName): string {
  const value = (ConfigSchema.properties[name] as { default?: unknown }).default;
  return value === undefined ? `env ${name}` : `env ${name}, default ${String(value)}`;
}

/** Help of the `--data-dir` option every database command takes. */
export const DATA_DIR_HELP = `directory of the database (${envDefault('BUILDFLOW_DATA_DIR')})`;

/** Help of `--limit` on list commands. */
export const PAGE_LIMIT_HELP = `page size, 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`;
