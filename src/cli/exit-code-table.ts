import { withGeneratedSection } from '../core/settings-table.js';
import { EXIT_CODE_MEANINGS, ExitCode } from './exit-codes.js';

/** Where the generated exit-code table stands in the README. */
export const EXIT_TABLE_START = '<!-- exit-code table: generated from src/cli/exit-codes.ts by `npm run docs:config` -->';
export const EXIT_TABLE_END = '<!-- end of exit-code table -->';

/** The README's exit-code table, one row a code, in ascending order. */
export function exitCodeTable(): string {
  const rows = (Object.keys(ExitCode) as (keyof typeof ExitCode)[])
    .sort((a, b) => ExitCode[a] - ExitCode[b])
    .map((name) => `| \`${ExitCode[name]}\` | ${EXIT_CODE_MEANINGS[name].replaceAll('|', '\\|')} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

/** `readme` with its exit-code table regenerated; undefined when a marker is missing. */
export function withExitCodeTable(readme: string): string | undefined {
  return withGeneratedSection(readme, EXIT_TABLE_START, EXIT_TABLE_END, exitCodeTable());
}
