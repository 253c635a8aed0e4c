import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../core/pagination.js';
import { SETTING_DEFAULTS, type HelpSetting } from '../core/setting-defaults.js';

/**
 * `env NAME, default VALUE`, from the defaults the config schema itself uses, so help never
 * retypes a default (and a command file need not load the config loader to print its help).
 */
export function envDefault(name: HelpSetting): string {
  return `env ${name}, default ${String(SETTING_DEFAULTS[name])}`;
}

/** Help of the `--data-dir` option every database command takes. */
export const DATA_DIR_HELP = `directory of the database (${envDefault('BUILDFLOW_DATA_DIR')})`;

/** Help of `--limit` on list commands. */
export const PAGE_LIMIT_HELP = `page size, 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`;
