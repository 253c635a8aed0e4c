// Bundles the compiled CLI (dist/src, from tsc) into dist/cli/, which bin/buildflow.js runs.
// Why: start-up time is the product of the HTTP commands (bench/cli-start.ts). Unbundled, such a
// command loads ~20 project files plus commander through the CommonJS loader, and resolving,
// reading and linking each file is most of its start. Bundled, it loads one file.
//
// The bundle is CommonJS (dist/cli/package.json says so, as bin/package.json does for the bin):
// on Node 20 a process whose first module is ES pays for the ES loader's start, ≈ 10–20 ms of an
// HTTP command's ≈ 140 ms, measured interleaved on 2026-12-06. Packages stay ES or CommonJS as
// they are. A chunk's static import of a package becomes a require, which Node ≥ 20.19 (see
// engines) also serves for an ES package, except one with top-level await: Ink is such a package,
// so the dashboard loads it with import() (src/cli/dashboard/ink.ts), which rollup keeps.
//
// Only commander is bundled from node_modules. Every other package stays external, so the server,
// the worker, the dashboard and the database load fastify, kysely, better-sqlite3, pg, ink … from
// node_modules exactly as before. Every project module exists once in the output (a second copy
// would break `instanceof` on errors), in one of two kinds of chunk:
// - dist/cli/main.js: every module the CLI reaches from its entry without passing through a module
//   that can load a package (the HTTP commands, their helpers, the light parts of core, commander);
// - chunks of their own for the rest (serve, worker, migrate, the dashboard, load tests …), loaded
//   by dynamic import only when such a command runs.
// test/cli/lazy-start.test.ts checks the result through dist/cli/meta.json, written here.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const ROOT = dirname(fileURLToPath(import.meta.url));
const OUT = `${ROOT}/dist/cli`;
const BUNDLED = ['commander', '@commander-js/extra-typings'];
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

const isBare = (id) => !/^[./\0]/.test(id) && !/^[A-Za-z]:/.test(id);
const packageOf = (id) => id.split('/').slice(0, id.startsWith('@') ? 2 : 1).join('/');
const external = (id) => isBare(id) && !BUNDLED.includes(packageOf(id));

/**
 * The modules that go into main.js: what every run loads (the entry and its static imports), and
 * every module reached from there, through static or dynamic imports, that cannot load a package
 * other than node's own by any path that leaves main.js. A command whose action loads the database
 * or the server is such a path, so its file gets a chunk of its own.
 */
function entryChunkModules(entry, { getModuleIds, getModuleInfo }) {
  const edges = (info) => [...info.importedIds, ...info.dynamicallyImportedIds];
  const always = new Set();
  for (const stack = [entry]; stack.length > 0; ) {
    const info = getModuleInfo(stack.pop());
    if (!info || info.isExternal || always.has(info.id)) continue;
    always.add(info.id);
    stack.push(...info.importedIds);
  }
  // Heavy: reaches a package without passing through `always`, found backwards from the packages.
  const importers = new Map();
  const heavy = new Set();
  const queue = [];
  for (const id of getModuleIds()) {
    const info = getModuleInfo(id);
    if (info.isExternal) {
      if (!BUILTINS.has(id)) queue.push(id);
    } else if (!always.has(id)) {
      for (const dep of edges(info)) importers.set(dep, [...(importers.get(dep) ?? []), id]);
    }
  }
  while (queue.length > 0) {
    for (const importer of importers.get(queue.pop()) ?? []) {
      if (!heavy.has(importer)) queue.push(heavy.add(importer) && importer);
    }
  }
  const main = new Set(always);
  for (const todo = [...always]; todo.length > 0; ) {
    for (const dep of edges(getModuleInfo(todo.pop()))) {
      const info = getModuleInfo(dep);
      if (!info || info.isExternal || main.has(dep) || heavy.has(dep)) continue;
      main.add(dep);
      todo.push(dep);
    }
  }
  return main;
}

/**
 * commander requires node:child_process at load only to spawn executable subcommands, which
 * buildflow has none of; loading it (with net, dgram, streams) costs ~5 ms of `--help`. Here it is
 * fetched when first used instead. The build fails if commander's source no longer matches.
 */
const lazyChildProcess = {
  name: 'buildflow-lazy-child-process',
  transform(code, id) {
    if (!id.endsWith('/node_modules/commander/lib/command.js')) return null;
    const eager = "const childProcess = require('node:child_process');";
    if (!code.includes(eager)) this.error(`commander's ${eager} is gone: update lazyChildProcess in rollup.config.js`);
    return { code: code.replace(eager, "const childProcess = { spawn: (...args) => process.getBuiltinModule('node:child_process').spawn(...args) };"), map: null };
  },
};

/** Writes which source modules went into which output file, for test/cli/lazy-start.test.ts. */
const metafile = {
  name: 'buildflow-metafile',
  generateBundle(_options, bundle) {
    const chunks = {};
    for (const file of Object.values(bundle)) {
      // The CommonJS plugin adds proxies of a file (`\0…?commonjs-…`): named once, by the file.
      if (file.type === 'chunk') chunks[file.fileName] = [...new Set(Object.keys(file.modules).map((id) => relative(ROOT, id.replace(/^\0/, '').replace(/\?.*$/, ''))))];
    }
    mkdirSync(OUT, { recursive: true });
    writeFileSync(`${OUT}/meta.json`, JSON.stringify(chunks, null, 2));
    writeFileSync(`${OUT}/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`);
  },
};

const ENTRY = `${ROOT}/dist/src/cli/main.js`;
let inEntryChunk;

rmSync(OUT, { recursive: true, force: true });

export default [
  {
    input: { main: ENTRY },
    external,
    // main.js may export more than main(): the chunks import what they share with it from there.
    preserveEntrySignatures: 'allow-extension',
    plugins: [lazyChildProcess, nodeResolve({ preferBuiltins: true }), commonjs(), metafile],
    output: {
      dir: OUT,
      format: 'cjs',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      sourcemap: true,
      manualChunks(id, graph) {
        inEntryChunk ??= entryChunkModules(ENTRY, graph);
        return inEntryChunk.has(id) ? 'main' : undefined;
      },
    },
  },
  // Worker threads are started by path, next to the chunk that starts them
  // (`new URL('./commit-thread.js', import.meta.url)`): each is an entry of its own here.
  {
    input: {
      'commit-thread': `${ROOT}/dist/src/core/commit-thread.js`,
      'generator-thread': `${ROOT}/dist/src/cli/loadtest/generator/generator-thread.js`,
    },
    external,
    plugins: [nodeResolve({ preferBuiltins: true }), commonjs()],
    output: { dir: OUT, format: 'cjs', entryFileNames: '[name].js', chunkFileNames: 'thread-[name]-[hash].js', sourcemap: true },
  },
];
