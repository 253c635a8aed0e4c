/**
 * Defaults of the settings that command help names, in a module with no imports: the config
 * schema (config.ts) takes its defaults from here, and `--help` reads them without loading the
 * config loader (env-schema, TypeBox), which a command file must not load at start.
 */
export const SETTING_DEFAULTS = {
  BUILDFLOW_DATA_DIR: '.buildflow',
  BUILDFLOW_HOST: '127.0.0.1',
  BUILDFLOW_PORT: 3000,
  BUILDFLOW_WORKER_CONCURRENCY: 2,
} as const;

/** A setting whose default help may name. */
export type HelpSetting = keyof typeof SETTING_DEFAULTS;
