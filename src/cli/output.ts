import { createRequire } from 'node:module';
import type Table from 'cli-table3';
import type { Page } from '../core/pagination.js';
import type { CliError } from './cli-error.js';

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

/**
 * A box table drawn by cli-table3, headers cyan and borders grey when `color`. cli-table3 is
 * required here, when a table is printed, never when a command file loads: `--help`, `--version`
 * and `--json` output do not pay for it (test/cli/lazy-start.test.ts).
 */
export function renderTable(head: string[] | undefined, rows: Cell[][], color: boolean): string {
  const CliTable = createRequire(import.meta.url)('cli-table3') as typeof Table;
  const table = new CliTable({ ...(head ? { head } : {}), style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
  table.push(...rows.map((r) => r.map(String)));
  return table.toString();
}

/** A table with a header row. */
export function printTable(head: string[], rows: Cell[][]): void {
  printLine(renderTable(head, rows, useColor()));
}

/** A list command's page: as JSON, or its items as people read them and how to ask for the next page. */
export function printPage<T>(page: Page<T>, json: boolean | undefined, printItems: (items: readonly T[]) => void): void {
  if (json) return printJson(page);
  printItems(page.items);
  if (page.nextCursor) printLine(`more: --cursor ${page.nextCursor}`);
}

/** Items as a table of one row each, or the line `empty` when there are none. */
export function tableOf<T>(empty: string, head: string[], row: (item: T) => Cell[]): (items: readonly T[]) => void {
  return (items) => (items.length === 0 ? printLine(empty) : printTable(head, items.map(row)));
}

/** A two-column table of one record's fields. */
export function printRecord(fields: [string, Cell][]): void {
  printLine(renderTable(undefined, fields, useColor()));
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
