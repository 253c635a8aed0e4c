import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './common.js';

// Compiled to dist/bench/, so the package root is two levels up.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'buildflow.js');

export interface WorkerProcesses {
  pids: number[];
  /** Postgres statements each worker reported sending over its life (known once it has stopped). */
  statements(): number | undefined;
  /** SIGTERM to every worker, then waits for them to exit (SIGKILL after `graceMs`); returns the exit codes. */
  stop(graceMs?: number): Promise<(number | null)[]>;
}

interface Child {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The start of its log (stderr), for readiness and for errors. */
  log: string;
  /** Warnings and errors the worker logged, by message and error text. */
  problems: Map<string, number>;
  /** From the worker's `buildflow worker stopped` line. */
  statements?: number;
}

// Warnings and errors shown as they come, per worker; the rest are counted and summed up at stop.
const SHOWN_PROBLEMS = 3;

function noteProblem(entry: Child, n: number, line: string): void {
  let key = line;
  try {
    const rec = JSON.parse(line) as { msg?: string; err?: unknown };
    key = `${rec.msg ?? '?'}${rec.err ? ` (${typeof rec.err === 'string' ? rec.err : JSON.stringify(rec.err).slice(0, 120)})` : ''}`;
  } catch {
    // not JSON: count the line itself
  }
  const seen = [...entry.problems.values()].reduce((a, b) => a + b, 0);
  entry.problems.set(key, (entry.problems.get(key) ?? 0) + 1);
  if (seen < SHOWN_PROBLEMS) console.error(`  [worker ${n + 1}] ${line.slice(0, 400)}`);
}

/**
 * Starts `count` × `buildflow worker --concurrency <concurrency>` on the deployment `env` points
 * at and resolves once each has logged that it is ready. The workers log at info so the ready line
 * can be seen (nothing on the hot path logs at info); their warnings and errors are forwarded to
 * stderr. They are stopped by `stop()`, or by runBench's cleanup if the bench fails.
 */
export async function startWorkerProcesses(env: Record<string, string>, count: number, concurrency: number, extraArgs: string[] = []): Promise<WorkerProcesses> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/src/cli/main.js is missing: run `npm run build` first');
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BUILDFLOW_')) base[k] = v;
  const childEnv = { ...base, NO_COLOR: '1', BUILDFLOW_PAYMENT_LATENCY_MS: '0', BUILDFLOW_LOG_LEVEL: 'info', ...env };

  const children: Child[] = [];
  let stopping: Promise<(number | null)[]> | undefined;
  // 'close' rather than 'exit': the last log lines (the statement count) are read by then.
  // Once only: the bench and its failure cleanup may both ask.
  const stop = (graceMs = 15_000): Promise<(number | null)[]> => (stopping ??= stopAll(graceMs));
  const stopAll = async (graceMs: number): Promise<(number | null)[]> => {
    unregister();
    return Promise.all(
      children.map(async ({ child, exited, problems }, n) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
          const summary = [...problems].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${c} × ${k}`);
          if (summary.length > 0) console.error(`  [worker ${n + 1}] logged warnings/errors: ${summary.join('; ')}`);
        }
      }),
    );
  };
  const unregister = onCleanup(async () => void (await stop()));

  for (let n = 0; n < count; n++) {
    const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', String(concurrency), ...extraArgs], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry: Child = { child, log: '', problems: new Map(), exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
    child.on('error', (err) => console.error(`[worker ${n + 1}] ${err.message}`));
    // Logs are pino JSON on stderr (stdout is for data): keep what readiness and the statement
    // count need, note warnings and errors line by line, and pass anything else through.
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (entry.log.length < 64_000) entry.log += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (/"level":(4|5|6)\d/.test(line)) noteProblem(entry, n, line);
        else if (line.includes('buildflow worker stopped')) entry.statements = (JSON.parse(line) as { postgresStatements?: number }).postgresStatements;
        else if (!line.startsWith('{')) process.stderr.write(`[worker ${n + 1} stderr] ${line}\n`);
      }
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => process.stderr.write(`[worker ${n + 1} stdout] ${d}`));
    children.push(entry);
  }

  const deadline = Date.now() + 30_000;
  try {
    for (const [n, c] of children.entries()) {
      while (!c.log.includes('buildflow worker ready')) {
        if (c.child.exitCode !== null || c.child.signalCode !== null) throw new Error(`worker ${n + 1} exited (${c.child.exitCode ?? c.child.signalCode}) before it was ready:\n${c.log}`);
        if (Date.now() > deadline) throw new Error(`worker ${n + 1} not ready within 30 s:\n${c.log}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } catch (err) {
    // Stop them before the caller drops the database they are connected to.
    await stop(5_000);
    throw err;
  }
  const statements = (): number | undefined =>
    children.every((c) => c.statements !== undefined) ? children.reduce((sum, c) => sum + c.statements!, 0) : undefined;
  return { pids: children.map((c) => c.child.pid!), stop, statements };
}
