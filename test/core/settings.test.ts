import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../src/core/client-config.js';
import { loadConfig } from '../../src/core/config.js';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { SETTINGS, settingList } from '../../src/core/settings.js';
import { TABLE_END, TABLE_START, settingsTable, withSettingsTable } from '../../src/core/settings-table.js';

const README = new URL('../../README.md', import.meta.url);

describe('the settings tree', () => {
  it('when the README is read, then its configuration table is the one the tree generates (npm run docs:config rewrites it)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(TABLE_START);
    expect(readme).toContain(TABLE_END);
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('when a setting is added to the tree, then the table gains its row', () => {
    const rows = settingsTable().split('\n').slice(2);
    expect(rows.map((r) => /^\| `(\w+)`/.exec(r)?.[1])).toEqual(settingList().map((s) => s.spec.env));
  });

  it('when nothing is set, then loadConfig resolves every default of the tree at its path', () => {
    const config = loadConfig({}, {}) as unknown as Record<string, unknown>;
    for (const { path, spec } of settingList()) {
      if (spec.default === undefined || spec.kind !== 'int' || path[0] === 'mail') continue;
      const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
      expect(value, spec.env).toBe(spec.default);
    }
    expect(config.timeoutMs).toBe(5_000);
    expect(config.mail).toBeUndefined();
  });

  it('when BUILDFLOW_TIMEOUT has a unit or is a bare number of seconds, then both loaders read the same duration', () => {
    expect(loadConfig({}, { BUILDFLOW_TIMEOUT: '750ms' }).timeoutMs).toBe(750);
    expect(loadConfig({}, { BUILDFLOW_TIMEOUT: '2' }).timeoutMs).toBe(2_000);
    expect(loadClientConfig({}, { BUILDFLOW_TIMEOUT: '750ms' }).timeoutSeconds).toBe(0.75);
    expect(loadClientConfig({}, { BUILDFLOW_TIMEOUT: '2' }).timeoutSeconds).toBe(2);
    expect(() => loadConfig({}, { BUILDFLOW_TIMEOUT: 'soon' })).toThrow(/BUILDFLOW_TIMEOUT .*expected a duration such as 5s or 500ms/);
    expect(() => loadClientConfig({}, { BUILDFLOW_TIMEOUT: '2h' })).toThrow(/BUILDFLOW_TIMEOUT must be above 0 and at most 1h/);
  });

  it('when a setting out of its bounds is given, then loadConfig names the variable', () => {
    expect(() => loadConfig({}, { BUILDFLOW_PORT: '70000' })).toThrow(/BUILDFLOW_PORT/);
    expect(() => loadConfig({ BUILDFLOW_WORKER_CONCURRENCY: 0 }, {})).toThrow(/BUILDFLOW_WORKER_CONCURRENCY/);
  });

  it('when the CLI-only variables are set, then they are checked and resolved like every other', () => {
    const config = loadConfig({}, { BUILDFLOW_TOKEN: 't', BUILDFLOW_PASSWORD: 'p', BUILDFLOW_CONFIG_DIR: '/tmp/x' });
    expect(config.cli).toEqual({ token: 't', password: 'p', configDir: '/tmp/x' });
    expect(SETTINGS.cli.token.env).toBe('BUILDFLOW_TOKEN');
  });
});

describe('durations', () => {
  it('when a duration has a unit, then it is read in that unit; a bare number only where a unit for it is given', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('5', 's')).toBe(5_000);
    expect(parseDuration('300', 'ms')).toBe(300);
    expect(parseDuration('soon', 's')).toBeUndefined();
  });

  it('when a duration is printed, then it takes the largest whole unit', () => {
    expect([formatDuration(300), formatDuration(1_000), formatDuration(1_500), formatDuration(120_000), formatDuration(3_600_000)]).toEqual([
      '300ms',
      '1s',
      '1.5s',
      '2m',
      '1h',
    ]);
  });
});
