import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_RULE } from '../../src/cli/credentials.js';
import { assertBuilt, runCli, startServer, tempDir } from '../cli/harness.js';

// The README's walk-through, run as written: the block is extracted from README.md and run by bash
// in a directory whose .buildflow/ is the data directory of a real `buildflow serve` on a free
// port. `buildflow` is on the PATH the way `npm link` puts it there: a symlink named `buildflow`
// to bin/buildflow.js. Each command's exit code and output is checked.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first ```sh block after the walk-through marker. */
function walkThroughBlock(): string {
  const marker = README.indexOf('<!-- walk-through:');
  if (marker < 0) throw new Error('README.md has no walk-through marker');
  const m = /```sh\n([\s\S]*?)```/.exec(README.slice(marker));
  if (!m) throw new Error('no sh block after the walk-through marker');
  return m[1]!;
}

/** The block's commands, one per entry: continuation lines joined, comments and blank lines left out. */
function commandsOf(block: string): string[] {
  const commands: string[] = [];
  let current = '';
  for (const line of block.split('\n')) {
    if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    current += `${line}\n`;
    if (!line.endsWith('\\')) {
      commands.push(current.trimEnd());
      current = '';
    }
  }
  if (current) commands.push(current.trimEnd());
  return commands;
}

interface Step {
  command: string;
  exit: number;
  stdout: string;
  stderr: string;
}

const tmp = tempDir('buildflow-readme-');
const dataDir = join(tmp.dir, '.buildflow');
const binDir = join(tmp.dir, 'bin');
const configDir = join(tmp.dir, 'config');
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let steps: Step[] = [];
let vars: Record<string, string> = {};

/** Runs the commands in one bash, with markers around each so every step's exit and output are known. */
function runWalkThrough(commands: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const script = [
    'set -o pipefail',
    ...commands.flatMap((c, i) => [`printf '\\n::step ${i}\\n'; printf '\\n::step ${i}\\n' >&2`, c, `printf '\\n::exit ${i} %d\\n' $? >&2`]),
    `printf '\\n::vars\\n'`,
    `printf 'REF=%s\\nREF2=%s\\nREF3=%s\\nREF4=%s\\nRETURN_ID=%s\\nTRACKING=%s\\nTOKEN=%s\\n' "$REF" "$REF2" "$REF3" "$REF4" "$RETURN_ID" "$TRACKING" "$TOKEN"`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: tmp.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

/** Splits marked output into each step's text. */
function sections(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const parts = text.split(/\n::step (\d+)\n/);
  for (let i = 1; i < parts.length; i += 2) out.set(Number(parts[i]), (parts[i + 1] ?? '').replace(/\n::(exit|vars)[\s\S]*$/, ''));
  return out;
}

beforeAll(async () => {
  assertBuilt();
  for (const tool of ['bash', 'curl', 'jq']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`the README walk-through needs ${tool} on the PATH (Debian: apt-get install -y ${tool})`);
  }
  mkdirSync(binDir);
  mkdirSync(configDir);
  symlinkSync(join(ROOT, 'bin', 'buildflow.js'), join(binDir, 'buildflow'));
  // The quick start: seed, then serve with a generated admin key in .buildflow/admin-key.
  expect((await runCli(['seed', '--data-dir', dataDir])).code).toBe(0);
  server = await startServer(dataDir, [], { BUILDFLOW_ADMIN_KEY: '' });

  // A user's shell: no BUILDFLOW_* of ours, buildflow on the PATH, the server's URL, a private config dir.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BUILDFLOW_') && k !== 'NO_COLOR') env[k] = v;
  Object.assign(env, { PATH: `${binDir}:${process.env.PATH}`, NO_COLOR: '1', BUILDFLOW_URL: server.url, BUILDFLOW_CONFIG_DIR: configDir });

  const commands = commandsOf(walkThroughBlock());
  const run = await runWalkThrough(commands, env);
  const outs = sections(run.stdout);
  const errs = sections(run.stderr);
  const exits = new Map([...run.stderr.matchAll(/\n::exit (\d+) (\d+)\n/g)].map((m) => [Number(m[1]), Number(m[2])]));
  steps = commands.map((command, i) => ({ command, exit: exits.get(i) ?? -1, stdout: outs.get(i) ?? '', stderr: errs.get(i) ?? '' }));
  const varText = run.stdout.split('\n::vars\n')[1] ?? '';
  vars = Object.fromEntries(varText.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}, 120_000);

afterAll(async () => {
  try {
    if (server) expect(await server.stop()).toBe(0);
  } finally {
    tmp.remove();
  }
});

/** The one step whose command starts with `prefix`. */
function step(prefix: string): Step {
  const found = steps.filter((s) => s.command.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one walk-through step starting with ${JSON.stringify(prefix)}, found ${found.length}`);
  return found[0]!;
}

describe('the README walk-through', () => {
  it('when run as written, then every step exits 0', () => {
    expect(steps.length).toBeGreaterThan(15);
    for (const s of steps) expect({ command: s.command, exit: s.exit, stderr: s.stderr.trim() }).toMatchObject({ command: s.command, exit: 0 });
  });

  it('when the block is read, then it is ASCII where it is typed (keys, flags), with no leftover placeholder values', () => {
    const block = walkThroughBlock();
    const code = block
      .split('\n')
      .map((l) => l.replace(/(^|\s+)#.*$/, ''))
      .join('\n');
    expect(code).not.toMatch(/[^\x20-\x7E\n]/);
    expect(block).not.toMatch(/BF-0000001A|TRK7K3M9QX2AB4C|…/);
  });

  it('when browsing the catalog, then the products and their stock are printed', () => {
    expect(step('buildflow product list --category').stdout).toMatch(/PT-DRL-18V/);
    expect(JSON.parse(step('buildflow product get PT-DRL-18V').stdout)).toEqual({ sku: 'PT-DRL-18V', available: expect.any(Number) });
  });

  it('when Ada signs up and signs in, then the account is created and the login saved', () => {
    expect(step("printf '%s\\n' 'a long passphrase' | buildflow customer create").stdout).toMatch(/ada@example\.com/);
    expect(step("printf '%s\\n' 'a long passphrase' | buildflow login").stderr).toMatch(/^signed in as ada@example\.com until /m);
  });

  it('when the order is placed with --wait, then REF is the first reference and the order is confirmed with its total and tracking code', () => {
    expect(vars.REF).toBe('BF-00000001');
    expect(step('echo "$REF"').stdout.trim()).toBe('BF-00000001');
    const got = step('buildflow order get "$REF"').stdout;
    expect(got).toMatch(/status\s*│\s*confirmed/);
    expect(got).toMatch(/147\.93/);
    expect(vars.TRACKING).toMatch(/^TRK[0-9A-Z]+$/);
    expect(got).toContain(vars.TRACKING);
  });

  it("when listing and following the order, then Ada's list, the history and the tracking page agree", () => {
    expect(step('buildflow order list --status confirmed').stdout).toContain('BF-00000001');
    const history = step('buildflow order history "$REF"').stdout;
    for (const status of ['pending', 'reserved', 'paid', 'confirmed']) expect(history).toContain(status);
    expect(step('buildflow track "$TRACKING"').stdout).toMatch(/tracking code\s*│\s*TRK/);
  });

  it('when the admin reports the shipment, then the update is accepted', () => {
    expect(step('BUILDFLOW_TOKEN=$ADMIN_KEY buildflow shipment update').stdout).toContain(`${vars.TRACKING}: shipped accepted`);
  });

  it('when the same is done over HTTP, then the token, a second order, its history, the tracking status and the stock change come back', () => {
    expect(vars.TOKEN).toMatch(/^bft_/);
    expect(vars.REF2).toBe('BF-00000002');
    expect(step('curl -fsS "$BUILDFLOW_URL/v1/orders/$REF2/history"').stdout.trim().split('\n')[0]).toBe('pending');
    expect(['pending', 'shipped']).toContain(step('curl -fsS "$BUILDFLOW_URL/v1/tracking/$TRACKING"').stdout.trim());
    expect(JSON.parse(step('curl -fsS -X POST "$BUILDFLOW_URL/v1/products/PT-DRL-18V/stock"').stdout)).toEqual({ sku: 'PT-DRL-18V', onHand: expect.any(Number) });
  });

  it('when the admin cancels a confirmed order and refunds part of another, then the cancel and the refund are accepted and the ledger shows them', () => {
    expect(vars.REF3).toBe('BF-00000003');
    expect(step('BUILDFLOW_TOKEN=$ADMIN_KEY buildflow order cancel').stdout).toMatch(/status\s*│\s*cancelled/);
    expect(step('BUILDFLOW_TOKEN=$ADMIN_KEY buildflow order refund').stdout).toMatch(/^refund \d+ of 5\.00 for order BF-00000001: pending$/m);
    const ledger = step('buildflow order payments "$REF"').stdout;
    for (const kind of ['authorization', 'capture', 'refund']) expect(ledger).toContain(kind);
    expect(ledger).toContain('147.93');
  });

  it('when Ada returns part of a delivered order and the admin receives it, then the return is received with its refund', () => {
    expect(vars.REF4).toBe('BF-00000004');
    expect(vars.RETURN_ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(step('BUILDFLOW_TOKEN=$ADMIN_KEY buildflow return receive').stdout).toMatch(new RegExp(`^return ${vars.RETURN_ID} received: \\d+\\.\\d\\d to refund \\(1 × FS-SCR-WD-8X2\\)$`, 'm'));
    expect(step('buildflow order returns "$REF4"').stdout).toMatch(/received\W+1 × FS-SCR-WD-8X2\W+\d+\.\d\d\W+one box too many/);
  });

  it("when Ada's notifications are listed, then the confirmation is there, and the workers then notify the shipment and the refund", async () => {
    expect(step('buildflow notification list --order "$REF"').stdout).toContain('order_confirmed');
    // The shipment update is applied by the workers after it was accepted: follow it to the end.
    let kinds: string[] = [];
    // So is the refund (told as order_refunded once the provider answered): the two come in either order.
    const told = () => kinds.includes('order_shipped') && kinds.includes('order_refunded');
    for (let i = 0; i < 100 && !told(); i++) {
      const r = await runCli(['notification', 'list', '--order', vars.REF!, '--json', '--url', server!.url], { env: { BUILDFLOW_CONFIG_DIR: configDir, BUILDFLOW_ADMIN_KEY: '' } });
      kinds = (JSON.parse(r.stdout) as { items: { kind: string }[] }).items.map((n) => n.kind);
      if (!told()) await new Promise((r) => setTimeout(r, 100));
    }
    expect(kinds.at(-1)).toBe('order_confirmed');
    expect([...kinds].sort()).toEqual(['order_confirmed', 'order_refunded', 'order_shipped']);
  });

  it('when the README states the credential rule, then it is the one --help states', () => {
    expect(README).toContain(CREDENTIAL_RULE.replace(/^credentials: /, 'Credentials: '));
  });
});
