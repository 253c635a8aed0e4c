import { createRequire } from 'node:module';

// Box tables drawn exactly as cli-table3 draws them (test/cli/table.test.ts holds the two to the
// same output), without it: cli-table3 took ~10 ms to load and ~20 ms to lay out a page of 20
// products, which alone put `product list` above the start-up goal (bench/cli-start.ts). Our
// tables need none of its spans, wrapping or truncation.

type StringWidth = (text: string) => number;
let stringWidth: StringWidth | undefined;

/** Terminal columns a line takes: its length when it is printable ASCII, else string-width's count (wide CJK, emoji, colour codes). */
function lineWidth(line: string): number {
  if (/^[\x20-\x7e]*$/.test(line)) return line.length;
  stringWidth ??= createRequire(import.meta.url)('string-width') as StringWidth;
  return stringWidth(line);
}

/** How to colour the parts of a table; identity when colour is off. */
export interface TableColors {
  head(text: string): string;
  border(text: string): string;
}

const PLAIN: TableColors = { head: (t) => t, border: (t) => t };

/**
 * Draws `rows` (cells may span lines) in a box with a line between rows; with `head`, that row
 * comes first and is coloured as a header.
 */
export function renderTable(rows: readonly (readonly string[])[], options: { head?: readonly string[]; colors?: TableColors } = {}): string {
  const colors = options.colors ?? PLAIN;
  const all = options.head && options.head.length > 0 ? [options.head, ...rows] : rows;
  const cells = all.map((row) => row.map((cell) => cell.split('\n')));
  const columns = Math.max(0, ...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, x) => 2 + Math.max(0, ...cells.map((row) => Math.max(0, ...(row[x] ?? ['']).map(lineWidth)))));
  const rule = (first: string, joint: string, last: string, fill: string) =>
    widths.map((w, x) => colors.border(`${x === 0 ? first : joint}${fill.repeat(w)}${x === columns - 1 ? last : ''}`)).join('');
  const out: string[] = [];
  cells.forEach((row, y) => {
    out.push(y === 0 ? rule('┌', '┬', '┐', '─') : rule('├', '┼', '┤', '─'));
    const height = Math.max(1, ...row.map((lines) => lines.length));
    const paint = y === 0 && all !== rows ? colors.head : (t: string) => t;
    for (let n = 0; n < height; n++) {
      out.push(
        widths
          .map((w, x) => {
            const line = row[x]?.[n] ?? '';
            const right = x === columns - 1 ? colors.border('│') : '';
            return `${colors.border('│')}${paint(` ${line}${' '.repeat(w - 2 - lineWidth(line))} `)}${right}`;
          })
          .join(''),
      );
    }
  });
  if (cells.length > 0) out.push(rule('└', '┴', '┘', '─'));
  return out.join('\n');
}
