import { readFile } from 'node:fs/promises';
import { DATA_DIR_HELP } from '../setting-help.js';
import { join, resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { CliError } from '../cli-error.js';
import { packageRoot } from '../../core/package-info.js';
import { printJson, printLine } from '../output.js';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('load a product catalog into the database (safe to run again: stock is kept)')
    .argument('[file]', 'catalog JSON: [{ sku, name, category, unitPriceCents, onHand }] (default: the bundled home-center catalog)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print { file, products, created, updated } as JSON')
    .addHelpText(
      'after',
      `
Existing products get the file's name, category and price; their stock is left alone, so a
re-run never adds stock twice.

Examples:
  $ buildflow seed
  $ buildflow seed ./my-catalog.json --data-dir /var/lib/buildflow
  $ buildflow seed --json`,
    )
    .action(async (file, opts) => {
      const path = file ? resolve(file) : join(packageRoot(), 'fixtures', 'products.json');
      const [{ withDatabase }, { parseCatalog, seedCatalog }] = await Promise.all([import('../database.js'), import('../../core/catalog/seed.js')]);
      const products = parseCatalog(await readCatalog(path));
      const { created, updated } = await withDatabase(opts.dataDir, (_db, _applied, units) => seedCatalog(units, products));
      if (opts.json) printJson({ file: path, products: products.length, created, updated });
      else printLine(`seeded ${products.length} products (${created} created, ${updated} updated)`);
    });
}

async function readCatalog(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError('FILE_UNREADABLE', `cannot read catalog ${path}: ${why}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError('VALIDATION_FAILED', `catalog ${path} is not valid JSON: ${(err as Error).message}`);
  }
}
