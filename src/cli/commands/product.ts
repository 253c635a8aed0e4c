import type { Command } from '@commander-js/extra-typings';
import type { ProductView } from '../../core/catalog/products.js';
import type { Page } from '../../core/pagination.js';
import { argPath } from '../arg-path.js';
import { apiClient, pageOptions, serverOptions } from '../api-options.js';
import { formatCents, printJson, printPage, printRecord, tableOf } from '../output.js';


export function registerProduct(program: Command): void {
  const product = program
    .command('product')
    .description('browse the catalog through the HTTP API (no sign-in needed)')
    .addHelpText(
      'after',
      `
Examples:
  $ buildflow product list
  $ buildflow product list --category "Power Tools" --json | jq -r '.items[].sku'
  $ buildflow product get PT-DRL-18V`,
    );

  serverOptions(
    pageOptions(
      product
        .command('list')
        .description('list products by sku, a page at a time')
        .option('--category <category>', 'only products of this category'),
    ),
  )
    .option('--json', 'print { items, nextCursor? } as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ buildflow product list
  $ buildflow product list --category "Power Tools" --limit 50
  $ buildflow product list --json | jq -r '.items[].sku'`,
    )
    .action(async (opts) => {
      const api = await apiClient(opts);
      const page = await api.get<Page<ProductView>>('/v1/products', { category: opts.category, limit: opts.limit, cursor: opts.cursor });
      printPage(
        page,
        opts.json,
        tableOf('no products', ['sku', 'name', 'category', 'price', 'available', 'on hand', 'reserved'], (p) => [
          p.sku, p.name, p.category, formatCents(p.unitPriceCents), p.available, p.onHand, p.reserved,
        ]),
      );
    });

  serverOptions(product.command('get').description('show one product').argument('<sku>', 'the product sku'))
    .option('--json', 'print the product as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ buildflow product get PT-DRL-18V
  $ buildflow product get PT-DRL-18V --json`,
    )
    .action(async (sku, opts) => {
      const api = await apiClient(opts);
      printProduct(await api.get<ProductView>(argPath('/v1/products/{sku}', { sku: ['<sku>', sku] })), opts.json);
    });
}

function printProduct(p: ProductView, json: boolean | undefined): void {
  if (json) return printJson(p);
  printRecord([
    ['sku', p.sku],
    ['name', p.name],
    ['category', p.category],
    ['price', formatCents(p.unitPriceCents)],
    ['available', p.available],
    ['on hand', p.onHand],
    ['reserved', p.reserved],
    ['updated', p.updatedAt],
  ]);
}
