import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-index.js';
import { CREDENTIAL_RULE } from '../../src/cli/credentials.js';
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
