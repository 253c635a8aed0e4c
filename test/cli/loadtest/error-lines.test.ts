import { describe, expect, it } from 'vitest';
import { ErrorLines, isErrorLine } from '../../../src/cli/loadtest/deployment/error-lines.js';

describe('error lines of a deployment process', () => {
  it('when pino logs at each level, then only error and fatal lines count, in JSON or pretty form', () => {
    expect(isErrorLine('{"level":30,"msg":"request completed"}')).toBe(false);
    expect(isErrorLine('{"level":40,"msg":"step failed; will retry"}')).toBe(false);
    expect(isErrorLine('{"level":50,"err":{"message":"deadlock detected"},"msg":"request failed"}')).toBe(true);
    expect(isErrorLine('{"level":60,"msg":"fatal"}')).toBe(true);
    expect(isErrorLine('[07:01:02.123] ERROR (123): request failed')).toBe(true);
    expect(isErrorLine('[07:01:02.123] INFO (123): an error was retried')).toBe(false);
  });

  it('when a line arrives split over chunks, then it is kept whole, and only the last 20 are kept', () => {
    const lines = new ErrorLines();
    lines.add('{"level":30,"msg":"ok"}\n{"level":50,"msg":"first ha');
    lines.add('lf"}\n');
    expect(lines.lines()).toEqual(['{"level":50,"msg":"first half"}']);
    for (let i = 0; i < 25; i++) lines.add(`{"level":50,"msg":"e${i}"}\n`);
    expect(lines.lines()).toHaveLength(20);
    expect(lines.lines()[0]).toBe('{"level":50,"msg":"e5"}');
    expect(lines.lines()[19]).toBe('{"level":50,"msg":"e24"}');
  });
});
