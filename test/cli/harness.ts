import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { freePort, waitForHealthz } from '../../src/cli/local-server.js';

/** CLI tests run the built binary, as users do; `npm test` builds first. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'buildflow.js');

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js (the bundle bin/buildflow.js runs) is missing: run `npm run build` before the CLI tests');
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The admin key every spawned `serve` uses and every spawned client sends, unless a test overrides it. */
export const CLI_ADMIN_KEY = 'cli-test-admin-key-0123456789';

/**
 * Where spawned CLIs keep their login: never the real user's config directory. Made on first use,
 * so a file whose tests are all skipped leaves nothing; vitest ends its workers without an 'exit'
 * event, so the file that imported this removes it.
 */
let configDir: string | undefined;
function cliConfigDir(): string {
  return (configDir ??= mkdtempSync(join(tmpdir(), 'buildflow-cli-config-')));
}
afterAll(() => {
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  configDir = undefined;
});

/**
 * Every credential a spawned CLI was given or printed as data in this file (keys, secrets, tokens
 * and passwords from its environment, passwords piped to `login`/`customer create`, tokens on
 * stdout), and everything spawned CLIs wrote to stderr, where logs and errors go. After the file,
 * no credential may appear in any of it.
 */
const secrets = new Set<string>();
const logs: { args: string[]; stderr: string }[] = [];
const SECRET_ENV = /KEY|PASSWORD|SECRET|TOKEN/;

function noteSecrets(args: string[], env: NodeJS.ProcessEnv, input?: string): void {
  for (const [k, v] of Object.entries(env)) if (k.startsWith('BUILDFLOW_') && SECRET_ENV.test(k) && v && v.length >= 8) secrets.add(v);
  const takesPassword = args[0] === 'login' || (args[0] === 'customer' && args[1] === 'create');
  if (takesPassword && input) for (const line of input.split('\n')) if (line.trim().length >= 8) secrets.add(line.trim());
}

function noteOutput(args: string[], stdout: string, stderr: string): void {
  for (const m of stdout.matchAll(/\bbft_[A-Za-z0-9_-]+/g)) secrets.add(m[0]);
  logs.push({ args, stderr });
}

/** Credentials of this file's spawned CLIs that ended up in their stderr (should be none). */
export function leakedSecrets(): { args: string; secret: string }[] {
  const leaks: { args: string; secret: string }[] = [];
  for (const { args, stderr } of logs) for (const secret of secrets) if (stderr.includes(secret)) leaks.push({ args: args.join(' '), secret: `${secret.slice(0, 4)}…` });
  return leaks;
}

afterAll(() => {
  const leaks = leakedSecrets();
  secrets.clear();
  logs.length = 0;
  if (leaks.length > 0) throw new Error(`credentials in the logs of spawned CLIs: ${JSON.stringify(leaks)}`);
});

/**
 * The environment of every spawned CLI: no BUILDFLOW_* from the outside, instant payments, cheap
 * scrypt, no colour, a throwaway config directory (and loadtest customer cache), and the test admin key (pass
 * `BUILDFLOW_ADMIN_KEY: ''` to act without it).
 */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BUILDFLOW_') && k !== 'NO_COLOR') env[k] = v;
  return {
    ...env,
    NO_COLOR: '1',
    BUILDFLOW_PAYMENT_LATENCY_MS: '0',
    BUILDFLOW_SCRYPT_COST: '1024',
    BUILDFLOW_CONFIG_DIR: cliConfigDir(),
    // loadtest keeps the customers it made on a --url target there: a throwaway one too.
    BUILDFLOW_LOADTEST_CACHE_DIR: join(cliConfigDir(), 'loadtest-cache'),
    BUILDFLOW_ADMIN_KEY: CLI_ADMIN_KEY,
    ...extra,
  };
}

/** Runs `buildflow <args>` to completion. stdin gets `input` (or nothing) and is closed. */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = cliEnv(options.env);
    noteSecrets(args, env, options.input);
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      noteOutput(args, stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function json<T = any>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** True when the text looks like it holds a stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text) || /\bError: .*\n\s+at /.test(text);
}

/** A temporary data directory, and a way to put files next to it. */
export function tempDir(prefix = 'buildflow-cli-'): { dir: string; file(name: string, content: unknown): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export { freePort };

export interface RunningProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when stdout or stderr (where logs go) has a line containing `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when stderr contains `text`. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `buildflow <args>` (serve, worker). */
export function startCli(args: string[], env: Record<string, string> = {}): RunningProcess {
  const fullEnv = cliEnv(env);
  noteSecrets(args, fullEnv);
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      noteOutput(args, stdout, stderr);
      resolve(code);
    }),
  );
  const waitFor = async (stream: () => string, text: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!stream().includes(text)) {
      if (child.exitCode !== null) throw new Error(`process exited ${child.exitCode} before "${text}":\n${stdout}\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    waitForStderr: (text, timeoutMs = 30_000) => waitFor(() => stderr, text, timeoutMs),
    async waitForOutput(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes(text) && !stderr.includes(text)) {
        if (child.exitCode !== null) throw new Error(`process exited ${child.exitCode} before "${text}":\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Starts `buildflow serve` on a free port and waits until /healthz answers. */
export async function startServer(dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<RunningProcess & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = startCli(['serve', '--port', String(port), '--data-dir', dataDir, ...extraArgs], env);
  const exitedWhy = () => (server.child.exitCode === null ? undefined : `serve exited ${server.child.exitCode}:\n${server.output().stdout}\n${server.output().stderr}`);
  try {
    await waitForHealthz(url, { timeoutMs: 30_000, exitedWhy });
  } catch (err) {
    if (server.child.exitCode !== null) throw err;
    await server.stop();
    throw new Error(`${(err as Error).message}:\n${server.output().stdout}\n${server.output().stderr}`);
  }
  return Object.assign(server, { url });
}

/** A seeded data directory with `buildflow serve` over it; `stop` stops the server (expecting exit 0) and removes the directory. */
export async function startSeededServer(): Promise<{ dataDir: string; url: string; cli(...args: string[]): Promise<RunResult>; stop(): Promise<void> }> {
  assertBuilt();
  const tmp = tempDir();
  if ((await runCli(['seed', '--data-dir', tmp.dir])).code !== 0) throw new Error('seed failed');
  const server = await startServer(tmp.dir);
  return {
    dataDir: tmp.dir,
    url: server.url,
    cli: (...args) => runCli([...args, '--url', server.url]),
    async stop() {
      try {
        const code = await server.stop();
        if (code !== 0) throw new Error(`serve exited ${code}: ${server.output().stderr}`);
      } finally {
        tmp.remove();
      }
    },
  };
}
