import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/cli/output.js';

// Tables are cli-table3's; these cases are the ones people would notice going wrong: columns that
// stop lining up on non-ASCII text, a cell over two lines, a record with no header row, and colour
// codes where there should be none.
const widths = (table: string) => table.split('\n').map((line) => [...line].reduce((n, ch) => n + (/[\u3040-\u9fff\u{1F300}-\u{1FAFF}]/u.test(ch) ? 2 : 1), 0));

describe('tables', () => {
  it('when a page of products is printed without colour, then it is a plain box with the header first', () => {
    expect(renderTable(['sku', 'price'], [['PT-DRL-18V', '129.00'], ['HT-HAM-16', 19.9]], false)).toBe(
      [
        '┌────────────┬────────┐',
        '│ sku        │ price  │',
        '├────────────┼────────┤',
        '│ PT-DRL-18V │ 129.00 │',
        '├────────────┼────────┤',
        '│ HT-HAM-16  │ 19.9   │',
        '└────────────┴────────┘',
      ].join('\n'),
    );
  });

  it('when cells hold a dash, wide CJK, an accent or an emoji, then every line of the box is as wide on screen', () => {
    const table = renderTable(['name', 'note'], [['Drill — 18V', '日本語'], ['Café', '📦 shipped']], false);
    expect(new Set(widths(table)).size).toBe(1);
  });

  it('when a cell spans two lines, then its row is two lines high and the box stays aligned', () => {
    const table = renderTable(['k', 'v'], [['multi', 'first line\nsecond, longer line']], false);
    expect(table.split('\n')).toContain('│ multi │ first line          │');
    expect(table.split('\n')).toContain('│       │ second, longer line │');
  });

  it('when a record is printed, then it has no header row', () => {
    expect(renderTable(undefined, [['sku', 'PT-DRL-18V'], ['total', '129.00']], false).split('\n')[1]).toBe('│ sku   │ PT-DRL-18V │');
  });

  it('when colour is off, then no escape code is printed', () => {
    expect(renderTable(['a'], [['b']], false)).not.toContain('\x1b[');
  });
});
