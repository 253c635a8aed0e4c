import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js';
import { formatCents } from '../../src/cli/output.js';
import { intArg, itemArg } from '../../src/cli/parse.js';

describe('cli rules', () => {
  it('maps error codes to exit codes, falling back to the HTTP status', () => {
    expect(exitCodeFor('PRODUCT_NOT_FOUND')).toBe(ExitCode.NOT_FOUND);
    expect(exitCodeFor('UNKNOWN_SKU', 422)).toBe(ExitCode.REJECTED);
    expect(exitCodeFor('CONFIG_INVALID')).toBe(ExitCode.USAGE);
    expect(exitCodeFor('UNAUTHORIZED', 401)).toBe(ExitCode.UNAUTHORIZED);
    expect(exitCodeFor('SOMETHING_NEW', 409)).toBe(ExitCode.REJECTED);
    expect(exitCodeFor('SOMETHING_NEW', 503)).toBe(ExitCode.UNAVAILABLE);
    expect(exitCodeFor('SOMETHING_NEW', 500)).toBe(ExitCode.INTERNAL);
    expect(exitCodeFor('SOMETHING_NEW')).toBe(ExitCode.INTERNAL);
  });

  it('keeps every exit code distinct', () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('formats cents as currency units', () => {
    expect(formatCents(0)).toBe('0.00');
    expect(formatCents(5)).toBe('0.05');
    expect(formatCents(1250)).toBe('12.50');
    expect(formatCents(64900)).toBe('649.00');
    expect(formatCents(-199)).toBe('-1.99');
  });

  it('parses repeated --item SKU:QTY and rejects anything else', () => {
    expect(itemArg('A-1:2', itemArg('B.2:1'))).toEqual([
      { sku: 'B.2', quantity: 1 },
      { sku: 'A-1', quantity: 2 },
    ]);
    for (const bad of ['A-1', 'A-1:', 'A-1:0', 'A-1:-1', 'A-1:1.5', ':2', 'A 1:2']) expect(() => itemArg(bad), bad).toThrow(/SKU:QTY/);
  });

  it('parses integer flags within bounds', () => {
    expect(intArg(1, 100)('20')).toBe(20);
    for (const bad of ['0', '101', '1e2', 'ten', '']) expect(() => intArg(1, 100)(bad), bad).toThrow(/integer from 1 to 100/);
  });
});
