import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../core/package-info.js';
import { ErrorLines } from './error-lines.js';

// Kept of each process's output, to explain a process that will not start.
const OUTPUT_TAIL = 4096;

/** A `buildflow` process started by loadtest (the built bin, as users run it). */
export class BuildflowProcess {
  readonly child: ChildProcess;
  private tail = '';
  // One per stream: a chunk of one may end in the middle of a line.
  private readonly errorLines = { stdout: new ErrorLines(), stderr: new ErrorLines() };
  readonly exited: Promise<number | null>;

  constructor(
    readonly args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, [join(packageRoot(), 'bin', 'buildflow.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
      const text = d.toString('utf8');
      this.tail = (this.tail + text).slice(-OUTPUT_TAIL);
      this.errorLines[stream].add(text);
    };
    this.child.stdout!.on('data', keep('stdout'));
    this.child.stderr!.on('data', keep('stderr'));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  /** The last error-level lines this process logged, oldest first. */
  errors(): readonly string[] {
    return [...this.errorLines.stdout.lines(), ...this.errorLines.stderr.lines()];
  }

  kill(): Promise<number | null> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs a one-shot `buildflow` command (migrate, seed) and fails with its output if it fails. */
export async function runBuildflow(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const p = new BuildflowProcess(args, env);
  const code = await p.exited;
  if (code !== 0) throw new Error(`buildflow ${args[0]} exited ${code}: ${p.output().trim().split('\n').slice(-3).join(' | ')}`);
}
