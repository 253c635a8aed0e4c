import { settingList, type SettingSpec } from './settings.js';

/** Where the generated table stands in the README. */
export const TABLE_START = '<!-- settings table: generated from src/core/settings.ts by `npm run docs:config` -->';
export const TABLE_END = '<!-- end of settings table -->';

function defaultCell(spec: SettingSpec): string {
  if (spec.shown !== undefined) return spec.shown;
  return spec.default === undefined ? '–' : `\`${String(spec.default)}\``;
}

/** The README's configuration table, one row a setting, in the settings tree's order. */
export function settingsTable(): string {
  const rows = settingList().map(({ spec }) => `| \`${spec.env}\` | ${defaultCell(spec)} | ${spec.doc.replaceAll('|', '\\|')} |`);
  return ['| env var | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** `readme` with the text between the markers replaced by the table; undefined when a marker is missing. */
export function withSettingsTable(readme: string): string | undefined {
  return withGeneratedSection(readme, TABLE_START, TABLE_END, settingsTable());
}

/** `text` with what stands between the `start` and `end` markers replaced by `section`; undefined when a marker is missing. */
export function withGeneratedSection(text: string, startMarker: string, endMarker: string, section: string): string | undefined {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) return undefined;
  return `${text.slice(0, start + startMarker.length)}\n${section}\n${text.slice(end)}`;
}
