import type { CliError } from './cli-error.js';
import { renderTable, type TableColors } from './table.js';

/** Colour only for a person at a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  const noColor = process.env.NO_COLOR;
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

/** Data for scripts: pretty JSON on stdout. */
export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

/** Text for people on stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A log line for people on stderr (never data). */
export function printNote(text: string): void {
  process.stderr.write(`${text}\n`);
}

type Cell = string | number;

/** Headers cyan and borders grey, as ANSI codes, for a person at a terminal. */
const COLORS: TableColors = { head: (t) => `\x1b[36m${t}\x1b[39m`, border: (t) => `\x1b[90m${t}\x1b[39m` };

/** A table with a header row. */
export function printTable(head: string[], rows: Cell[][]): void {
  printLine(renderTable(rows.map((r) => r.map(String)), { head, ...(useColor() ? { colors: COLORS } : {}) }));
}

/** A two-column table of one record's fields. */
export function printRecord(fields: [string, Cell][]): void {
  printLine(renderTable(fields.map(([k, v]) => [k, String(v)]), useColor() ? { colors: COLORS } : {}));
}

/** Cents as a decimal amount: 1250 → "12.50". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Reports a failure: always one line `error: <message>` on stderr; with `--json` also
 * `{ "error": { code, message } }` on stdout, unless the command already printed its data there.
 */
export function printError(err: CliError, json: boolean): void {
  if (json && !err.dataPrinted) printJson({ error: { code: err.code, message: err.message } });
  printNote(err.plain ? err.message : `error: ${err.message}`);
}
