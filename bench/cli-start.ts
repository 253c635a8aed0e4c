import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHealthz } from '../src/cli/local-server.js';

/**
 * How fast the CLI starts: whole-process wall time of `buildflow --help` and of each HTTP-only
 * command against a real local `buildflow serve`, beside `node -e 0` on the same machine, runs
 * interleaved so load from other processes falls on all of them alike. Prints the median, the
 * minimum and the ratio of medians to `node -e 0`; the goal is a ratio of at most 1.5. The last
 * cell runs an HTTP command against a port nobody listens on, to tell the CLI's own start from the
 * time the server takes to answer.
 *
 *   npm run build && npm run bench:cli-start          (CLI_START_RUNS=30 by default)
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'buildflow.js');
const RUNS = Number(process.env.CLI_START_RUNS ?? 30);
const GOAL = 1.5;

/** One run of `node args…`: wall milliseconds from spawn to exit; an unexpected exit code stops the bench. */
function timeRun(args: string[], env: NodeJS.ProcessEnv, expectExit = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== expectExit) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve(ms);
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'buildflow-bench-cli-'));
  let server: ChildProcess | undefined;
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      // login runs once per round: above the sign-in limits for people.
      BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT: '100000',
      BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS: '100000',
      BUILDFLOW_DATA_DIR: dataDir,
      BUILDFLOW_PAYMENT_LATENCY_MS: '0',
      BUILDFLOW_SCRYPT_COST: '1024',
      BUILDFLOW_CONFIG_DIR: dataDir,
    };
    const seeded = spawnSync(process.execPath, [BIN, 'seed'], { env, encoding: 'utf8' });
    if (seeded.status !== 0) throw new Error(`seed failed: ${seeded.stderr}`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { env: { ...env, BUILDFLOW_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    await waitForHealthz(url, { timeoutMs: 30_000 });
    const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    const clientEnv: NodeJS.ProcessEnv = { ...env, BUILDFLOW_URL: url, BUILDFLOW_ADMIN_KEY: adminKey, BUILDFLOW_PASSWORD: 'bench-password-123' };
    const created = spawnSync(process.execPath, [BIN, 'customer', 'create', '--email', 'bench@example.com', '--name', 'Bench', '--json'], { env: clientEnv, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`customer create failed: ${created.stderr}`);
    const order = spawnSync(process.execPath, [BIN, 'order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--json'], { env: clientEnv, encoding: 'utf8' });
    if (order.status !== 0) throw new Error(`order create failed: ${order.stderr}`);
    const { reference, trackingCode } = JSON.parse(order.stdout) as { reference: string; trackingCode: string };

    // A port nobody listens on: the CLI's own start and its action's modules, without the server's answer.
    const refused = `http://127.0.0.1:${await freePort()}`;
    const cells: { name: string; args: string[]; exit?: number }[] = [
      { name: 'node -e 0', args: ['-e', '0'] },
      { name: 'buildflow --help', args: [BIN, '--help'] },
      { name: 'buildflow --version', args: [BIN, '--version'] },
      { name: 'product list --json', args: [BIN, 'product', 'list', '--json'] },
      { name: 'product list (table)', args: [BIN, 'product', 'list'] },
      { name: 'product get --json', args: [BIN, 'product', 'get', 'PT-DRL-18V', '--json'] },
      { name: 'order get --json', args: [BIN, 'order', 'get', reference, '--json'] },
      { name: 'order list --json', args: [BIN, 'order', 'list', '--json'] },
      { name: 'track --json', args: [BIN, 'track', trackingCode, '--json'] },
      { name: 'customer list --json', args: [BIN, 'customer', 'list', '--json'] },
      { name: 'login --print-token', args: [BIN, 'login', '--email', 'bench@example.com', '--print-token'] },
      { name: 'order get, refused port', args: [BIN, 'order', 'get', reference, '--json', '--url', refused], exit: 5 },
    ];
    const times = new Map<string, number[]>(cells.map((c) => [c.name, []]));
    // Warm the file cache first, then interleave: run i of every cell before run i + 1 of any.
    for (const c of cells) await timeRun(c.args, clientEnv, c.exit);
    for (let i = 0; i < RUNS; i++) for (const c of cells) times.get(c.name)!.push(await timeRun(c.args, clientEnv, c.exit));

    const base = median(times.get('node -e 0')!);
    console.log(`CLI start-up, ${RUNS} runs each, node ${process.version}, wall ms (spawn to exit); goal: median ≤ ${GOAL} × node -e 0`);
    console.log(`${'command'.padEnd(24)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'ratio'.padStart(7)}`);
    let worst = 0;
    for (const c of cells) {
      const xs = times.get(c.name)!;
      const ratio = median(xs) / base;
      if (c.name !== 'node -e 0') worst = Math.max(worst, ratio);
      console.log(`${c.name.padEnd(24)} ${median(xs).toFixed(1).padStart(8)} ${Math.min(...xs).toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}`);
    }
    console.log(`worst ratio ${worst.toFixed(2)} (${worst <= GOAL ? 'within' : 'above'} the ${GOAL} goal)`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
