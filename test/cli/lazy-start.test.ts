import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from '@commander-js/extra-typings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-index.js';
import { assertBuilt, CLI_ADMIN_KEY, runCli, startServer, tempDir } from './harness.js';

// Start-up time is the product of what a command loads (bench/cli-start.ts measures it). These
// tests run the built binary with a module-load tracer and fail when a heavy module loads where it
// is not needed: at --help, when a command file is loaded, or in an HTTP command's action.
// bin/buildflow.js runs the bundle in dist/cli/ (rollup.config.js), where a package can be inside a
// chunk rather than in node_modules: the build's dist/cli/meta.json says which modules each chunk
// holds, and a loaded chunk counts as loading every package in it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'buildflow.js');
const BUNDLE = join(ROOT, 'dist', 'cli');

/** Packages only the database, server, worker or dashboard commands may load. */
const HEAVY = [
  'fastify', '@fastify', 'kysely', 'better-sqlite3', 'pg', 'pg-pool', 'ioredis', 'bee-queue', 'redis', 'ink', 'react',
  'pino', 'pino-pretty', 'undici', 'env-schema', '@sinclair', 'typebox', 'ajv', 'close-with-grace', 'autocannon',
];
/** What is only needed to print a table for people (string-width: non-ASCII cells), never for --help or --json. */
const TABLES = ['cli-table3', 'string-width'];

/** The package a module path belongs to: the last node_modules segment names it (scoped: two parts). */
const packageOf = (path: string): string | undefined => /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];

const traceDir = mkdtempSync(join(tmpdir(), 'buildflow-trace-'));
const hooks = join(traceDir, 'hooks.mjs');
const preload = join(traceDir, 'preload.mjs');
// ESM loads are seen by a loader hook (in its own thread); CommonJS ones are in require.cache at exit.
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(process.env.BUILDFLOW_TRACE_FILE, url + '\\n');
  return nextLoad(url, context);
}
`,
);
writeFileSync(
  preload,
  `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(hooks).href)});
process.on('exit', () => {
  const files = Object.keys(createRequire(import.meta.url).cache).map((f) => pathToFileURL(f).href);
  appendFileSync(process.env.BUILDFLOW_TRACE_FILE, files.join('\\n') + '\\n');
});
`,
);
let traceCount = 0;
afterAll(() => rmSync(traceDir, { recursive: true, force: true }));

/**
 * Runs `buildflow args…` under the tracer; resolves with its exit code, the packages it loaded
 * (from node_modules or inside a loaded chunk) and the project files it loaded (relative to the root).
 */
function traced(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; packages: Set<string>; files: string[] }> {
  const chunks = JSON.parse(readFileSync(join(BUNDLE, 'meta.json'), 'utf8')) as Record<string, string[]>;
  const file = join(traceDir, `trace-${++traceCount}.txt`);
  writeFileSync(file, '');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', BUILDFLOW_TRACE_FILE: file, BUILDFLOW_CONFIG_DIR: traceDir, BUILDFLOW_ADMIN_KEY: CLI_ADMIN_KEY, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const packages = new Set<string>();
      const files = new Set<string>();
      for (const url of readFileSync(file, 'utf8').split('\n')) {
        if (!url.startsWith('file:')) continue;
        const path = fileURLToPath(url);
        const pkg = packageOf(path);
        if (pkg) packages.add(pkg);
        else if (path.startsWith(ROOT)) files.add(relative(ROOT, path));
        if (dirname(path) === BUNDLE) for (const m of chunks[basename(path)] ?? []) if (packageOf(m)) packages.add(packageOf(m)!);
      }
      resolve({ code, stderr, packages, files: [...files].sort() });
    });
  });
}

const heavyIn = (packages: Set<string>, forbidden: readonly string[]) =>
  [...packages].filter((p) => forbidden.some((h) => p === h || p.startsWith(`${h}/`)));

describe('what the CLI loads at start', () => {
  beforeAll(() => assertBuilt());

  it('when the tracer runs a command that loads the database, then it sees the heavy packages (the tracer works)', async () => {
    const dir = tempDir();
    try {
      const r = await traced(['migrate', '--data-dir', dir.dir, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(heavyIn(r.packages, HEAVY)).toEqual(expect.arrayContaining(['kysely', 'better-sqlite3']));
    } finally {
      dir.remove();
    }
  });

  it('when asked for --help, then no heavy module and no table library loads, and only the bundle\'s entry file (commander inside it)', async () => {
    const r = await traced(['--help']);
    expect(r.code).toBe(0);
    expect(heavyIn(r.packages, [...HEAVY, ...TABLES])).toEqual([]);
    // Seen through meta.json: the tracer sees what the bundle holds.
    expect([...r.packages]).toContain('commander');
    expect(r.files).toEqual(['bin/buildflow.js', 'dist/cli/main.js']);
  });

  it("when asked for each command's --help, then its command file loads no heavy module", async () => {
    for (const entry of COMMANDS) {
      const r = await traced([entry.name, '--help']);
      expect(r.code, `${entry.name}: ${r.stderr}`).toBe(0);
      expect(heavyIn(r.packages, [...HEAVY, ...TABLES]), entry.name).toEqual([]);
    }
  });

  it('when a command is listed, then its description in the index is the one its file gives', async () => {
    for (const entry of COMMANDS) {
      const program = new Command();
      (await entry.load())(program);
      const registered = program.commands.find((c) => c.name() === entry.name);
      expect(registered?.description(), entry.name).toBe(entry.description);
    }
  });
});

describe('what the HTTP commands load when they run', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  beforeAll(async () => {
    assertBuilt();
    expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
    server = await startServer(tmp.dir);
  });
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('when HTTP-only commands run against a real server, then none loads a heavy module, --json loads no table library, and a table loads cli-table3 alone', async () => {
    const url = server!.url;
    const placed = await runCli(['order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--json', '--url', url]);
    expect(placed.code, placed.stderr).toBe(0);
    const { reference, trackingCode } = JSON.parse(placed.stdout) as { reference: string; trackingCode: string };
    const runs: string[][] = [
      ['product', 'list', '--json'],
      ['product', 'get', 'PT-DRL-18V', '--json'],
      ['order', 'create', '--item', 'PT-DRL-18V:1', '--json'],
      ['order', 'get', reference, '--json'],
      ['order', 'list', '--json'],
      ['order', 'history', reference, '--json'],
      ['notification', 'list', '--json'],
      ['track', trackingCode, '--json'],
      ['customer', 'list', '--json'],
    ];
    for (const args of runs) {
      const r = await traced([...args, '--url', url]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(heavyIn(r.packages, [...HEAVY, ...TABLES]), args.join(' ')).toEqual([]);
      // Each file is a resolve, a read and a link: an HTTP command is one file of the bundle.
      expect(r.files, args.join(' ')).toEqual(['bin/buildflow.js', 'dist/cli/main.js']);
    }
    for (const args of [['product', 'list'], ['product', 'get', 'PT-DRL-18V'], ['order', 'list']]) {
      const table = await traced([...args, '--url', url]);
      expect(table.code, `${args.join(' ')}: ${table.stderr}`).toBe(0);
      // A table for people is the one place cli-table3 loads, and nothing heavier comes with it.
      expect(heavyIn(table.packages, HEAVY), args.join(' ')).toEqual([]);
      expect(table.packages.has('cli-table3'), args.join(' ')).toBe(true);
    }
  });
});
