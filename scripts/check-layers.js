#!/usr/bin/env node
// The layer rule (DESIGN.md): core imports nothing from server, worker or cli, and never prints or exits.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const core = join(root, 'src/core');
const problems = [];

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
  for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
    if (/(^|\/)(server|worker|cli)\//.test(m[1]) && m[1].startsWith('.')) problems.push(`${rel} imports ${m[1]}`);
    if (/^(fastify|commander|ink|react|undici|@fastify\/|cli-table3)/.test(m[1])) problems.push(`${rel} imports ${m[1]}`);
  }
  if (/\bconsole\.|process\.exit\b|process\.std(out|err)\.write/.test(text)) problems.push(`${rel} prints or exits`);
}

walk(core);
if (problems.length > 0) {
  console.error(`layer rule broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layers ok: src/core depends on nothing above it');
