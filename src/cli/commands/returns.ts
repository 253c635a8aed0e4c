import type { Command } from '@commander-js/extra-typings';
import type { ReturnView } from '../../core/returns/return-view.js';
import { argPath } from '../arg-path.js';
import { apiClient, apiOptions, idempotencyHeader, idempotentApiOptions } from '../api-options.js';
import { orderPath, orderSubcommand } from '../order-argument.js';
import { printJson, printLine, printTable } from '../output.js';
import { itemArg, receivedItemArg } from '../parse.js';

const money = (cents: number | undefined) => (cents === undefined ? '' : (cents / 100).toFixed(2));
const linesOf = (r: ReturnView) => r.lines.map((l) => `${l.receivedQuantity ?? l.quantity} × ${l.sku}${l.restock === false && l.receivedQuantity ? ' (not restocked)' : ''}`).join(', ');

/** `order return` and `order returns`: a customer's (or the admin's) returns of an order, over the HTTP API. */
export function registerOrderReturns(order: Command): void {
  idempotentApiOptions(
    orderSubcommand(order, 'return', 'ask to return lines of a shipped or delivered order (your own within the return window; the admin any)')
      .requiredOption('--item <SKU:QTY>', 'a line to send back (repeatable)', itemArg)
      .requiredOption('--reason <text>', 'why'),
    'asks a second return',
  )
    .option('--json', 'print the return as JSON')
    .addHelpText(
      'after',
      `
Nothing is refunded until the admin receives the return (\`buildflow return receive\`). Never more of
a sku than bought less what earlier returns asked back: exit 4 (RETURN_EXCEEDS_PURCHASED) names the
sku and both quantities; an order not shipped yet (RETURN_NOT_ALLOWED) or past
BUILDFLOW_RETURN_WINDOW_DAYS (RETURN_WINDOW_CLOSED) also exits 4; another customer's order exits 3.

Examples:
  $ buildflow order return BF-00000001 --item MUG:1 --reason "arrived broken"
  $ buildflow order return "$REF" --item MUG:1 --item CUP:2 --reason "too many" --json`,
    )
    .action(async (idOrReference, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const created = await api.post<ReturnView>(orderPath(idOrReference, '/returns'), { items: opts.item, reason: opts.reason }, idempotencyHeader(opts.idempotencyKey));
      if (opts.json) return printJson(created);
      printLine(`return ${created.id} of order ${idOrReference}: ${created.status} (${linesOf(created)})`);
    });

  apiOptions(orderSubcommand(order, 'returns', "show an order's returns, oldest first"))
    .option('--json', 'print { items: [return, …] } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order returns BF-00000001\n  $ buildflow order returns "$REF" --json')
    .action(async (idOrReference, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const list = await api.get<{ items: ReturnView[] }>(orderPath(idOrReference, '/returns'));
      if (opts.json) return printJson(list);
      printTable(
        ['id', 'status', 'lines', 'refund', 'reason', 'at'],
        list.items.map((r) => [r.id, r.status, linesOf(r), money(r.refundCents), r.reason, r.createdAt]),
      );
    });
}

/** `return receive`: the admin receives a return over the HTTP API. */
export function registerReturn(program: Command): void {
  const ret = program
    .command('return')
    .description('receive returned goods (admin): restock them and refund their price')
    .addHelpText(
      'after',
      `
A customer asks for a return with \`buildflow order return\`; the admin receives it here.

Examples:
  $ buildflow return receive "$RETURN_ID" --item MUG:1
  $ buildflow order returns BF-00000001 --json | jq -r '.items[] | select(.status == "requested") | .id'`,
    );
  apiOptions(
    ret
      .command('receive')
      .description('receive a return: restock what can be resold and refund the price of what arrived')
      .argument('<id>', 'return id (from `order return` or `order returns`)')
      .requiredOption('--item <SKU:QTY[:norestock]>', 'a line that arrived, put back on hand unless :norestock (repeatable; a line not named arrived none)', receivedItemArg)
  )
    .option('--json', 'print the received return as JSON')
    .addHelpText(
      'after',
      `
The received lines' price is refunded through the payment ledger (a worker asks the provider). A
return is received once: again exits 4 (RETURN_ALREADY_RECEIVED); an unknown return exits 3.

Examples:
  $ buildflow return receive 0193b3c2-… --item MUG:1
  $ buildflow return receive "$RETURN_ID" --item MUG:1 --item CUP:1:norestock --json`,
    )
    .action(async (id, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const received = await api.post<ReturnView>(argPath('/v1/returns/{id}/receive', { id: ['<id>', id] }), { items: opts.item });
      if (opts.json) return printJson(received);
      printLine(`return ${received.id} received: ${money(received.refundCents)} to refund (${linesOf(received)})`);
    });
}
