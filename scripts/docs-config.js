#!/usr/bin/env node
// Writes the README's configuration table from the settings tree (src/core/settings.ts), through the
// compiled copy in dist/ (npm run docs:config builds it first). test/core/settings-table.test.ts fails
// when the README and the tree disagree.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { withSettingsTable } = await import(new URL('dist/src/core/settings-table.js', root).href);
const file = new URL('README.md', root);
const before = readFileSync(file, 'utf8');
const after = withSettingsTable(before);
if (after === undefined) {
  console.error('README.md has no settings-table markers: see src/core/settings-table.ts');
  process.exit(1);
}
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'README.md configuration table already up to date' : 'README.md configuration table rewritten');
