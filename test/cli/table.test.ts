import { createRequire } from 'node:module';
import type Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { renderTable, type TableColors } from '../../src/cli/table.js';

// The CLI draws its tables itself for start-up time (src/cli/table.ts); what people see must stay
// what cli-table3, which drew them before, draws. cli-table3 colours through @colors/colors, which
// colours only when it believes the terminal can: FORCE_COLOR makes it so in this process.
process.env.FORCE_COLOR = '1';
const CliTable = createRequire(import.meta.url)('cli-table3') as typeof Table;

const COLORS: TableColors = { head: (t) => `\x1b[36m${t}\x1b[39m`, border: (t) => `\x1b[90m${t}\x1b[39m` };

function theirs(rows: string[][], head: string[] | undefined, color: boolean): string {
  const table = new CliTable({ ...(head ? { head } : {}), style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
  table.push(...rows);
  return table.toString();
}

const cases: { name: string; head?: string[]; rows: string[][] }[] = [
  { name: 'a page of products', head: ['sku', 'name', 'price'], rows: [['PT-DRL-18V', 'Cordless drill 18V', '129.00'], ['HT-HAM-16', 'Claw hammer', '19.90']] },
  { name: 'a header wider than its cells', head: ['available', 'on hand'], rows: [['3', '7']] },
  { name: 'empty cells', head: ['a', 'b', 'c'], rows: [['', 'x', ''], ['y', '', '']] },
  { name: 'non-ASCII: a dash, wide CJK, an accent, an emoji', head: ['name', 'note'], rows: [['Drill — 18V', '日本語'], ['Café', '📦 shipped']] },
  { name: 'a cell over two lines', head: ['k', 'v'], rows: [['multi', 'first line\nsecond, longer line'], ['one', 'x']] },
  { name: 'a record (no header row)', rows: [['sku', 'PT-DRL-18V'], ['reference', 'BF-20261206-ABCD'], ['total', '129.00']] },
  { name: 'a header and no rows', head: ['only', 'head'], rows: [] },
];

describe('tables as cli-table3 draws them', () => {
  for (const c of cases) {
    it(`when the table is ${c.name}, then it is drawn as cli-table3 draws it, without and with colour`, () => {
      expect(renderTable(c.rows, c.head ? { head: c.head } : {})).toBe(theirs(c.rows, c.head, false));
      expect(renderTable(c.rows, { ...(c.head ? { head: c.head } : {}), colors: COLORS })).toBe(theirs(c.rows, c.head, true));
    });
  }
});
