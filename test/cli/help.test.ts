import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-index.js';
import { CREDENTIAL_RULE } from '../../src/cli/credentials.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertBuilt, runCli } from './harness.js';

describe('--help', () => {
  it('when any top-level command is asked for --help, then it exits 0 and shows examples', async () => {
    assertBuilt();
    for (const entry of COMMANDS) {
      const r = await runCli([entry.name, '--help']);
      expect(r.code, entry.name).toBe(0);
      expect(r.stdout, entry.name).toMatch(/\nExamples:\n {2}\$ .*buildflow /);
    }
  });

  it('when --help speaks of credentials, then it states the one rule the README states', async () => {
    const top = await runCli(['--help']);
    expect(top.stdout.replace(/\n/g, ' ')).toContain(CREDENTIAL_RULE.replace(/^credentials/, 'Credentials'));
    const order = await runCli(['order', 'create', '--help']);
    expect(order.stdout.replace(/\s+/g, ' ')).toContain(CREDENTIAL_RULE);
  });
});

describe('the README for users', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('when the README lists exit codes, then it does so once, with a row for every code the CLI uses', () => {
    expect(readme.match(/^Exit codes/gm)).toHaveLength(1);
    const rows = [...readme.matchAll(/^\| `(\d+)` \| /gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(Object.values(ExitCode));
  });

  it('when a command takes a duration, then its help shows the one convention (a value with a unit)', async () => {
    for (const args of [['order', 'create'], ['doctor'], ['product', 'list'], ['dashboard']]) {
      const r = await runCli([...args, '--help']);
      expect(r.stdout, args.join(' ')).not.toMatch(/<seconds>|<ms>/);
    }
  });
});
