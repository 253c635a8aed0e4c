#!/usr/bin/env node
// Writes the README's generated tables, through the compiled copy in dist/ (npm run docs:config
// builds it first): the configuration table from the settings tree (src/core/settings.ts; checked by
// test/core/settings.test.ts) and the exit-code table from src/cli/exit-codes.ts (checked by
// test/cli/exit-code-table.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { withSettingsTable } = await import(new URL('dist/src/core/settings-table.js', root).href);
const { withExitCodeTable } = await import(new URL('dist/src/cli/exit-code-table.js', root).href);
const file = new URL('README.md', root);
const before = readFileSync(file, 'utf8');
const withSettings = withSettingsTable(before);
const after = withSettings === undefined ? undefined : withExitCodeTable(withSettings);
if (after === undefined) {
  console.error('README.md lacks the markers of a generated table: see src/core/settings-table.ts and src/cli/exit-code-table.ts');
  process.exit(1);
}
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'README.md generated tables already up to date' : 'README.md generated tables rewritten');
