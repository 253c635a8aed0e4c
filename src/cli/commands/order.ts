import { Option, type Command } from '@commander-js/extra-typings';
import { ORDER_STATUSES } from '../../core/domain/order-status.js';
import type { RequestedItem } from '../../core/domain/pricing.js';
import type { OrderView } from '../../core/orders/order-view.js';
import type { Page } from '../../core/pagination.js';
import { apiClient, apiOptions, pageOptions } from '../api-options.js';
import { CliError } from '../cli-error.js';
import { CREDENTIAL_RULE } from '../command-index.js';
import type { ApiFlags } from '../http-client.js';
import { ExitCode } from '../exit-codes.js';
import { orderPath, orderSubcommand } from '../order-argument.js';
import { printOrder, printOrderTable } from '../order-output.js';
import { printJson, printLine, printNote, printPage, printTable } from '../output.js';
import { idempotencyKeyArg, itemArg } from '../parse.js';
import { durationFlag } from '../duration-arg.js';
import { DEFAULTS } from '../../core/defaults.js';
import { formatDuration } from '../../core/duration.js';
import { registerOrderMoney } from './order-money.js';
import { registerOrderReturns } from './returns.js';

// The old spelling of --wait-timeout: milliseconds, still accepted with a note.
const deprecatedTimeoutMs = durationFlag({ flag: '--timeout-ms', bareUnit: 'ms', minMs: 1, to: 'ms', renamedTo: '--wait-timeout' });

const clientFor = (opts: ApiFlags, token: string | undefined) => apiClient(opts, { token });

export function registerOrder(program: Command): void {
  const order = program
    .command('order')
    .description('place and follow orders through the HTTP API')
    .addHelpText(
      'after',
      `
${CREDENTIAL_RULE}.

Examples:
  $ REF=$(buildflow order create --item PT-DRL-18V:1 --json | jq -r .reference)
  $ buildflow order get "$REF"
  $ buildflow order list --status confirmed
  $ buildflow order history "$REF"
  $ buildflow order trace "$REF"
  $ buildflow order cancel "$REF"`,
    );

  apiOptions(
    order
      .command('create')
      .description('place an order (prices come from the catalog)')
      .option('--item <sku:qty>', 'a line of the order; repeat for more lines', itemArg)
      .option('--idempotency-key <key>', 'retrying with the same key never places a second order', idempotencyKeyArg)
      .option('--wait', 'wait until the pipeline confirms or cancels the order')
      .option(
        '--wait-timeout <duration>',
        `how long --wait waits for the final state, e.g. 30s (default ${formatDuration(DEFAULTS.cli.orderWaitMs)})`,
        durationFlag({ flag: '--wait-timeout', minMs: 1, to: 'ms' }),
        DEFAULTS.cli.orderWaitMs,
      )
      .addOption(
        new Option('--timeout-ms <ms>', 'deprecated: --wait-timeout')
          .hideHelp()
          .argParser(deprecatedTimeoutMs),
      )
      .option('--customer <id>', 'admin only: place the order on behalf of this customer'),
  )
    .option('--json', 'print the order as JSON')
    .addHelpText(
      'after',
      `
Without --item, the order is read as JSON from stdin: { "items": [{ "sku": "…", "quantity": 1 }] }.
The order belongs to the customer whose credential is used (${CREDENTIAL_RULE}).
With the admin key, --customer places it on behalf of a customer; without --customer the admin's
order has no owner, and no customer's \`order list\` shows it (the command says so on stderr).
With --wait, the reference is printed on stderr as soon as the order is accepted; exits 0 when the
order is confirmed, 6 when it was cancelled (the message says why), 130 on Ctrl-C (the order goes on).

Examples:
  $ buildflow order create --item PT-DRL-18V:1 --item FS-SCR-WD-8X2:2
  $ buildflow order create --item PT-DRL-18V:1 --wait --json
  $ buildflow order create --item PT-DRL-18V:1 --idempotency-key "$(uuidgen)"
  $ echo '{"items":[{"sku":"PT-DRL-18V","quantity":1}]}' | buildflow order create
  $ BUILDFLOW_ADMIN_KEY=$(cat .buildflow/admin-key) buildflow order create --customer "$CUSTOMER_ID" --item PT-DRL-18V:1`,
    )
    .action(async (opts) => {
      const client = await clientFor(opts, opts.token);
      // Loaded before the order is placed, so no await stands between acceptance and the Ctrl-C handler.
      const waitForOrder = opts.wait ? (await import('../wait-for-order.js')).waitForOrder : undefined;
      const body = opts.item ? { items: opts.item } : await orderFromStdin();
      const headers: Record<string, string> = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {};
      let placed = await client.post<OrderView>('/v1/orders', body, headers, { customerId: opts.customer }, {
        ...(opts.item ? { items: opts.item } : {}),
        query: { customerId: '--customer' },
        headers: { 'idempotency-key': '--idempotency-key' },
      });
      if (!opts.customer && client.credential?.admin) {
        printNote(`note: order ${placed.reference} was placed with the admin key and no --customer: it has no owner, and no customer's order list shows it`);
      }
      if (waitForOrder) placed = await waitForOrder(client, placed, opts.timeoutMs ?? opts.waitTimeout);
      printOrder(placed, opts.json);
      if (opts.wait && placed.status === 'cancelled') {
        throw new CliError('ORDER_CANCELLED', `order ${placed.reference} was cancelled: ${placed.cancelReason ?? 'no reason given'}`, {
          exitCode: ExitCode.ORDER_CANCELLED,
          dataPrinted: true,
        });
      }
    });

  apiOptions(orderSubcommand(order, 'get', 'show one order'))
    .option('--json', 'print the order as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order get BF-00000001\n  $ buildflow order get "$REF" --json | jq -r .status')
    .action(async (idOrReference, opts) => {
      const api = await clientFor(opts, opts.token);
      printOrder(await api.get<OrderView>(orderPath(idOrReference)), opts.json);
    });

  apiOptions(
    pageOptions(
      order
        .command('list')
        .description('list orders, newest first')
        .addOption(new Option('--status <status>', 'only orders in this status').choices(ORDER_STATUSES)),
    ),
  )
    .option('--json', 'print { items, nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order list\n  $ buildflow order list --status cancelled --limit 50 --json')
    .action(async (opts) => {
      const api = await clientFor(opts, opts.token);
      const page = await api.get<Page<OrderView>>('/v1/orders', { status: opts.status, limit: opts.limit, cursor: opts.cursor });
      printPage(page, opts.json, printOrderTable);
    });

  apiOptions(orderSubcommand(order, 'cancel', 'cancel an order that has not shipped (a customer: until BUILDFLOW_CUSTOMER_CANCEL_UNTIL); its money is voided or refunded'))
    .option('--json', 'print the cancelled order as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order cancel BF-00000001\n  $ buildflow order cancel "$REF" --json')
    .action(async (idOrReference, opts) => {
      const api = await clientFor(opts, opts.token);
      printOrder(await api.post<OrderView>(orderPath(idOrReference, '/cancel'), {}), opts.json);
    });

  apiOptions(orderSubcommand(order, 'history', "show an order's transitions, oldest first"))
    .option('--json', 'print { items: [{ from, to, reason?, at }] } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow order history BF-00000001\n  $ buildflow order history "$REF" --json')
    .action(async (idOrReference, opts) => {
      type Entry = { from: string | null; to: string; reason?: string; at: string };
      const api = await clientFor(opts, opts.token);
      const history = await api.get<{ items: Entry[] }>(orderPath(idOrReference, '/history'));
      if (opts.json) return printJson(history);
      printTable(['at', 'from', 'to', 'reason'], history.items.map((h) => [h.at, h.from ?? '', h.to, h.reason ?? '']));
    });

  apiOptions(
    orderSubcommand(order, 'trace', "show an order's whole story, oldest first: transitions, payment, stock, notifications, emails, webhooks and its pipeline message"),
  )
    .option('--json', 'print { orderId, reference, status, events: [{ at, kind, summary, detail }] } as JSON')
    .addHelpText(
      'after',
      `
From the stored rows only. With the admin key it includes each webhook delivery attempt and the
order's pipeline message (its step, attempts, last error, dead-lettered or re-driven); the owner
sees the rest.

Examples:
  $ buildflow order trace BF-00000042
  $ buildflow order trace "$REF" --json | jq -r '.events[] | select(.kind == "step") | .summary'`,
    )
    .action(async (idOrReference, opts) => {
      type Trace = { reference: string; status: string; events: { at: string; kind: string; summary: string }[] };
      const api = await clientFor(opts, opts.token);
      const trace = await api.get<Trace>(orderPath(idOrReference, '/trace'));
      if (opts.json) return printJson(trace);
      printLine(`${trace.reference}: ${trace.status}`);
      printTable(['at', 'what', 'summary'], trace.events.map((e) => [e.at, e.kind, e.summary]));
    });
  registerOrderMoney(order);
  registerOrderReturns(order);
}

/** The order body piped on stdin, when no --item was given. */
async function orderFromStdin(): Promise<{ items: RequestedItem[] }> {
  if (process.stdin.isTTY) throw new CliError('USAGE', 'give at least one --item SKU:QTY, or pipe the order as JSON on stdin');
  const { readStdin } = await import('../read-stdin.js');
  const text = (await readStdin()).trim();
  if (text === '') throw new CliError('USAGE', 'no --item given and stdin is empty: give --item SKU:QTY or pipe the order as JSON');
  try {
    return JSON.parse(text) as { items: RequestedItem[] };
  } catch (err) {
    throw new CliError('INVALID_JSON', `the order on stdin is not valid JSON: ${(err as Error).message}`);
  }
}
