import { Option, type Command } from '@commander-js/extra-typings';
import type { Page } from '../../core/pagination.js';
import type { DeliveryView } from '../../core/webhooks/delivery-log.js';
import type { WebhookEndpointView } from '../../core/webhooks/endpoints.js';
import { WEBHOOK_EVENTS } from '../../core/webhooks/events.js';
import { argPath } from '../arg-path.js';
import { apiClient, apiOptions, pageOptions } from '../api-options.js';
import { CliError } from '../cli-error.js';
import { printJson, printLine, printNote, printPage, printRecord, tableOf } from '../output.js';
import { intArg } from '../parse.js';
import { DEFAULTS } from '../../core/defaults.js';

const api = (opts: { url?: string | undefined; timeout?: number | undefined; token?: string | undefined }) => apiClient(opts, { token: opts.token });
const TOKEN_HELP = 'admin key (env BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY)';
const path = (id: string, rest = '') => argPath(`/v1/webhooks/{id}${rest}`, { id: ['<id>', id] });

function eventsArg(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((e) => e.trim()).filter(Boolean)];
}

function printEndpoint(e: WebhookEndpointView & { secret?: string }): void {
  const fields: [string, string | number][] = [
    ['id', e.id],
    ['url', e.url],
    ['events', e.events.join(', ')],
    ['enabled', e.enabled ? 'yes' : `no (${e.disabledReason ?? 'disabled'})`],
    ['description', e.description],
    ['stock low at', e.stockLowThreshold],
  ];
  if (e.previousSecretExpiresAt) fields.push(['old secret until', e.previousSecretExpiresAt]);
  if (e.secret) fields.push(['secret', e.secret]);
  printRecord(fields);
  if (e.secret) printNote('the secret is shown only now: keep it to verify signatures');
}

export function registerWebhook(program: Command): void {
  const webhook = program
    .command('webhook')
    .description('manage webhook endpoints and their deliveries (admin)')
    .addHelpText(
      'after',
      `
Needs the admin key (--token, else BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY).

Examples:
  $ EP=$(buildflow webhook add https://erp.example.com/hooks --event order.confirmed,order.cancelled --json | jq -r .id)
  $ buildflow webhook list
  $ buildflow webhook deliveries "$EP" --status dead
  $ buildflow webhook replay "$EP" --since 2026-12-04T00:00:00Z
  $ buildflow webhook rotate "$EP"`,
    );
  apiOptions(
    webhook
      .command('add')
      .description('register an endpoint; prints its whsec_ signing secret once')
      .argument('<endpointUrl>', 'http(s) URL the events are POSTed to')
      .requiredOption('--event <types>', `event types, repeatable or comma-separated: ${WEBHOOK_EVENTS.join(', ')}`, eventsArg)
      .option('--description <text>', 'what the endpoint is for (up to 500 characters)')
      .option('--stock-low-threshold <n>', `stock.low fires when stock on hand falls to this or below (default ${DEFAULTS.webhooks.stockLowThreshold})`, intArg(0, 1_000_000)),
    TOKEN_HELP,
  )
    .option('--json', 'print the endpoint with its secret as JSON')
    .addHelpText(
      'after',
      `
The URL's host must not resolve to a loopback, private, link-local or metadata address unless the
server runs with BUILDFLOW_WEBHOOK_ALLOW_PRIVATE=1 (exit 4 otherwise).

Examples:
  $ buildflow webhook add https://erp.example.com/hooks --event order.confirmed,order.cancelled
  $ buildflow webhook add https://ops.example.com/stock --event stock.low --stock-low-threshold 10 --json`,
    )
    .action(async (endpointUrl, opts) => {
      const body: Record<string, unknown> = { url: endpointUrl, events: opts.event };
      if (opts.description !== undefined) body.description = opts.description;
      if (opts.stockLowThreshold !== undefined) body.stockLowThreshold = opts.stockLowThreshold;
      const created = await (await api(opts)).post<WebhookEndpointView & { secret: string }>('/v1/webhooks', body);
      if (opts.json) return printJson(created);
      printEndpoint(created);
    });

  apiOptions(
    pageOptions(
      webhook
        .command('list')
        .description('list endpoints, oldest first'),
    ),
    TOKEN_HELP,
  )
    .option('--json', 'print { items, nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook list\n  $ buildflow webhook list --json')
    .action(async (opts) => {
      const page = await (await api(opts)).get<Page<WebhookEndpointView>>('/v1/webhooks', { limit: opts.limit, cursor: opts.cursor });
      printPage(page, opts.json, tableOf('no webhook endpoints', ['id', 'url', 'events', 'enabled'], (e) => [e.id, e.url, e.events.join(', '), e.enabled ? 'yes' : 'no']));
    });

  apiOptions(webhook.command('get').description('show one endpoint').argument('<id>', 'endpoint id, ep_…'), TOKEN_HELP)
    .option('--json', 'print the endpoint as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook get ep_0193…')
    .action(async (id, opts) => {
      const e = await (await api(opts)).get<WebhookEndpointView>(path(id));
      if (opts.json) return printJson(e);
      printEndpoint(e);
    });

  for (const [name, enabled, text] of [
    ['disable', false, 'stop sending to an endpoint: its pending deliveries are dead at once, and replays are refused until it is enabled again'],
    ['enable', true, 'send to an endpoint again (its failure streak starts over)'],
  ] as const) {
    apiOptions(webhook.command(name).description(text).argument('<id>', 'endpoint id, ep_…'), TOKEN_HELP)
      .option('--json', 'print the endpoint as JSON')
      .addHelpText('after', `\nExamples:\n  $ buildflow webhook ${name} ep_0193…`)
      .action(async (id, opts) => {
        const e = await (await api(opts)).patch<WebhookEndpointView>(path(id), { enabled });
        if (opts.json) return printJson(e);
        printLine(`${e.id} is ${e.enabled ? 'enabled' : 'disabled'}`);
      });
  }

  apiOptions(webhook.command('rotate').description('replace the signing secret; the old one keeps signing beside it for 24 hours').argument('<id>', 'endpoint id, ep_…'), TOKEN_HELP)
    .option('--json', 'print the endpoint with its new secret as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook rotate ep_0193… --json | jq -r .secret')
    .action(async (id, opts) => {
      const e = await (await api(opts)).post<WebhookEndpointView & { secret: string }>(path(id, '/rotate'), undefined);
      if (opts.json) return printJson(e);
      printEndpoint(e);
    });

  apiOptions(webhook.command('remove').description('delete an endpoint with its deliveries and their log').argument('<id>', 'endpoint id, ep_…'), TOKEN_HELP)
    .option('--json', 'print { id, removed } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook remove ep_0193…')
    .action(async (id, opts) => {
      await (await api(opts)).delete(path(id));
      if (opts.json) return printJson({ id, removed: true });
      printLine(`${id} removed`);
    });

  apiOptions(
    pageOptions(
      webhook
        .command('deliveries')
        .description("an endpoint's deliveries, newest first, with every attempt")
        .argument('<id>', 'endpoint id, ep_…')
        .addOption(new Option('--status <status>', 'only deliveries in this state').choices(['pending', 'delivered', 'dead'] as const)),
    ),
    TOKEN_HELP,
  )
    .option('--json', 'print { items, nextCursor? } as JSON, each delivery with its payload and log')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook deliveries ep_0193… --status dead\n  $ buildflow webhook deliveries ep_0193… --json | jq \'.items[].log\'')
    .action(async (id, opts) => {
      const page = await (await api(opts)).get<Page<DeliveryView>>(path(id, '/deliveries'), { status: opts.status, limit: opts.limit, cursor: opts.cursor });
      printPage(
        page,
        opts.json,
        tableOf('no deliveries', ['webhook-id', 'event', 'order', 'seq', 'status', 'attempts', 'last answer', 'next attempt', 'created'], (d) => {
          const last = d.log[d.log.length - 1];
          return [d.id, d.eventType, d.orderReference ?? d.orderId ?? '', d.sequence ?? '', d.status, d.attempts, last ? String(last.statusCode ?? last.error ?? '') : '', d.nextAttemptAt ?? '', d.createdAt];
        }),
      );
    });

  apiOptions(
    webhook
      .command('replay')
      .description('send one delivery again, or every dead one since a time, under the same webhook-id')
      .argument('<id>', 'endpoint id, ep_…')
      .argument('[deliveryId]', 'the delivery (its webhook-id, msg_…)')
      .option('--since <time>', 'replay every dead delivery created at or after this ISO time'),
    TOKEN_HELP,
  )
    .option('--json', 'print the delivery, or { replayed }, as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow webhook replay ep_0193… msg_0193…\n  $ buildflow webhook replay ep_0193… --since 2026-12-01T00:00:00Z')
    .action(async (id, deliveryId, opts) => {
      if ((deliveryId === undefined) === (opts.since === undefined)) throw new CliError('USAGE', 'give either a delivery id or --since <time>');
      const client = await api(opts);
      if (deliveryId !== undefined) {
        const d = await client.post<DeliveryView>(argPath('/v1/webhooks/{id}/deliveries/{deliveryId}/replay', { id: ['<id>', id], deliveryId: ['[deliveryId]', deliveryId] }), undefined);
        if (opts.json) return printJson(d);
        return printLine(`${d.id} queued again`);
      }
      const since = new Date(opts.since!);
      if (Number.isNaN(since.getTime())) throw new CliError('USAGE', `--since: not a time: ${opts.since}`);
      const res = await client.post<{ replayed: number }>(path(id, '/replay'), { since: since.toISOString() });
      if (opts.json) return printJson(res);
      printLine(`${res.replayed} dead ${res.replayed === 1 ? 'delivery' : 'deliveries'} queued again`);
    });
}
