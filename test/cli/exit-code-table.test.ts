import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_TABLE_END, EXIT_TABLE_START, exitCodeTable, withExitCodeTable } from '../../src/cli/exit-code-table.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const README = new URL('../../README.md', import.meta.url);

describe('the exit-code table', () => {
  it('when the README is read, then its one exit-code table is the one src/cli/exit-codes.ts generates (npm run docs:config rewrites it)', () => {
    const readme = readFileSync(README, 'utf8');
    // Undefined when a marker is missing.
    expect(withExitCodeTable(readme)).toBe(readme);
    expect(readme.indexOf(EXIT_TABLE_START)).toBeLessThan(readme.indexOf(EXIT_TABLE_END));
    expect(readme.split('| code | meaning |').length - 1).toBe(1);
  });

  it('when a code is added to ExitCode, then the table gains its row, in ascending order', () => {
    const codes = exitCodeTable()
      .split('\n')
      .slice(2)
      .map((row) => Number(/^\| `(\d+)`/.exec(row)?.[1]));
    expect(codes).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });
});
