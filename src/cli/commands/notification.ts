import type { Command } from '@commander-js/extra-typings';
import type { NotificationView } from '../../core/notifications/list-notifications.js';
import type { Page } from '../../core/pagination.js';
import { apiClient, apiOptions, pageOptions } from '../api-options.js';
import { printPage, tableOf } from '../output.js';

export function registerNotification(program: Command): void {
  const notification = program
    .command('notification')
    .description("the notifications the pipeline wrote for the caller's orders (confirmed, cancelled, shipped …)")
    .addHelpText(
      'after',
      `
Examples:
  $ buildflow notification list
  $ buildflow notification list --order "$REF" --json | jq -r '.items[].kind'`,
    );

  apiOptions(
    pageOptions(
      notification
        .command('list')
        .description('list notifications, newest first (a customer sees only their own; the admin sees all)')
        .option('--order <idOrReference>', 'only the notifications of this order (id or reference BF-…)'),
    ),
  )
    .option('--json', 'print { items: [{ id, orderId, kind, message, createdAt }], nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow notification list --order BF-00000001\n  $ buildflow notification list --limit 100 --json')
    .action(async (opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const page = await api.get<Page<NotificationView>>('/v1/notifications', { order: opts.order, limit: opts.limit, cursor: opts.cursor });
      printPage(page, opts.json, tableOf('no notifications', ['at', 'order', 'kind', 'message'], (n) => [n.createdAt, n.orderReference, n.kind, n.message]));
    });
}
