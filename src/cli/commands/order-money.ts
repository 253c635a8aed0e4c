import type { Command } from '@commander-js/extra-typings';
import type { LedgerEntryView } from '../../core/payments/refunds.js';
import { apiClient, apiOptions, idempotencyHeader, idempotentApiOptions } from '../api-options.js';
import { CliError } from '../cli-error.js';
import { orderPath, orderSubcommand } from '../order-argument.js';
import { printJson, printLine, printTable } from '../output.js';
import { intArg, itemArg } from '../parse.js';

function printEntries(entries: readonly LedgerEntryView[]): void {
  printTable(
    ['id', 'kind', 'amount', 'status', 'reason', 'at'],
    entries.map((e) => [String(e.id), e.kind, (e.amountCents / 100).toFixed(2), e.status, e.reason ?? '', e.createdAt]),
  );
}

/** `order refund` and `order payments`: an order's money, over the HTTP API. */
export function registerOrderMoney(order: Command): void {
  idempotentApiOptions(
    orderSubcommand(order, 'refund', 'refund part or all of what an order was charged (admin): by amount or by lines, with a reason')
      .option('--amount <cents>', 'the amount to refund, in cents', intArg(1))
      .option('--item <SKU:QTY>', 'refund these lines at the price paid (repeatable)', itemArg)
      .requiredOption('--reason <text>', 'why (kept in the payment ledger)'),
    'refunds twice',
  )
    .option('--json', 'print the refund (a payment-ledger entry) as JSON')
    .addHelpText(
      'after',
      `
The refund is written pending and asked of the payment provider by a worker. Never more than was
captured less what was refunded: exit 4 (REFUND_EXCEEDS_CAPTURED) names both amounts.

Examples:
  $ buildflow order refund BF-00000001 --amount 500 --reason "late delivery"
  $ buildflow order refund "$REF" --item MUG:1 --reason "arrived broken" --json`,
    )
    .action(async (idOrReference, opts) => {
      if ((opts.amount === undefined) === (opts.item === undefined)) throw new CliError('USAGE', 'give either --amount CENTS or --item SKU:QTY');
      const api = await apiClient(opts, { token: opts.token });
      const body = { reason: opts.reason, ...(opts.amount !== undefined ? { amountCents: opts.amount } : { items: opts.item }) };
      const refund = await api.post<LedgerEntryView>(orderPath(idOrReference, '/refunds'), body, idempotencyHeader(opts.idempotencyKey));
      if (opts.json) return printJson(refund);
      printLine(`refund ${refund.id} of ${(refund.amountCents / 100).toFixed(2)} for order ${idOrReference}: ${refund.status}`);
    });

  apiOptions(orderSubcommand(order, 'payments', "show an order's payment ledger: authorization, captures, voids and refunds"))
    .option('--json', 'print { items: [ledger entry, …] } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order payments BF-00000001\n  $ buildflow order payments "$REF" --json')
    .action(async (idOrReference, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const ledger = await api.get<{ items: LedgerEntryView[] }>(orderPath(idOrReference, '/payments'));
      if (opts.json) return printJson(ledger);
      printEntries(ledger.items);
    });
}
