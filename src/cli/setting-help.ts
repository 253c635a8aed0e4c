import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../core/pagination.js';
import { settingDefault, type SettingName } from '../core/settings.js';

/**
 * `env NAME, default VALUE`, from the settings tree the config loader itself uses, so help never
 * retypes a default (and a command file need not load the config loader to print its help).
 */
export function envDefault(name: SettingName): string {
  const value = settingDefault(name);
  return value === undefined ? `env ${name}` : `env ${name}, default ${String(value)}`;
}

/** Help of the `--data-dir` option every database command takes. */
export const DATA_DIR_HELP = `directory of the database (${envDefault('BUILDFLOW_DATA_DIR')})`;

/** Help of `--limit` on list commands. */
export const PAGE_LIMIT_HELP = `page size, 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`;
