#!/usr/bin/env node
// The layer rule (DESIGN.md): core imports nothing from server, worker or cli, and never prints or
// exits; and the folders of src/core depend on each other without a cycle. Both count every kind of
// import: `import … from`, `export … from`, a bare `import '…'` and a lazy `import('…')`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const core = join(root, 'src/core');
const problems = [];

/**
 * Folder dependencies inside src/core that close a cycle and are known, each with why it is still
 * there and what removes it. Listed edges are left out of the cycle check; anything else that closes
 * a cycle fails the lint. Remove an entry when its cycle is gone.
 */
const ALLOWED_CYCLE_EDGES = {
};

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
/** folder → folder → the imports that make the edge. */
const edges = new Map();

/** The top folder under src/core that holds `path`; undefined for core's own top-level files. */
function folderOf(path) {
  const parts = relative(core, path).split('/');
  return parts.length > 1 ? parts[0] : undefined;
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.tsx?$/.test(name)) check(path);
  }
}

function check(path) {
  const text = readFileSync(path, 'utf8');
  const rel = relative(root, path);
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1];
    if (/(^|\/)(server|worker|cli)\//.test(spec) && spec.startsWith('.')) problems.push(`${rel} imports ${spec}`);
    if (/^(fastify|commander|ink|react|undici|@fastify\/|cli-table3)/.test(spec)) problems.push(`${rel} imports ${spec}`);
    if (!spec.startsWith('.')) continue;
    // Core's top-level files (config, errors, ids, defaults …) are its shared kernel: every folder
    // may use them, so only folder-to-folder edges are checked for cycles.
    const from = folderOf(path);
    const to = folderOf(resolve(dirname(path), spec));
    if (from === undefined || to === undefined || from === to || !resolve(dirname(path), spec).startsWith(`${core}/`)) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const out = edges.get(from);
    if (!out.has(to)) out.set(to, []);
    out.get(to).push(`${relative(core, path)} → ${spec}`);
  }
  if (/\bconsole\.|process\.exit\b|process\.std(out|err)\.write/.test(text)) problems.push(`${rel} prints or exits`);
}

/** Strongly connected components of the folder graph without the allowed edges (Tarjan). */
function cycles() {
  const next = (f) => [...(edges.get(f)?.keys() ?? [])].filter((t) => !(`${f} -> ${t}` in ALLOWED_CYCLE_EDGES));
  const index = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const found = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const f of edges.keys()) if (!index.has(f)) visit(f);
  return found.map((scc) => {
    const inside = scc.flatMap((f) => next(f).filter((t) => scc.includes(t)).map((t) => `      ${f} -> ${t}: ${edges.get(f).get(t).slice(0, 3).join(', ')}`));
    return `folder cycle in src/core: ${scc.join(' ↔ ')}\n${inside.join('\n')}`;
  });
}

walk(core);
problems.push(...cycles());
for (const edge of Object.keys(ALLOWED_CYCLE_EDGES)) {
  const [from, to] = edge.split(' -> ');
  if (!edges.get(from)?.has(to)) problems.push(`ALLOWED_CYCLE_EDGES lists ${edge}, which no import makes any more: remove the entry`);
}
if (problems.length > 0) {
  console.error(`layer rule broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const known = Object.keys(ALLOWED_CYCLE_EDGES).length;
console.log(`layers ok: src/core depends on nothing above it, and its folders form no cycle${known ? ` but the ${known} known ones in scripts/check-layers.js` : ''}`);
