import type { Command } from '@commander-js/extra-typings';
import { PAGE_LIMIT_HELP } from '../setting-help.js';
import { MAX_PAGE_LIMIT } from '../../core/pagination.js';
import type { NotificationView } from '../../core/notifications/list-notifications.js';
import type { Page } from '../../core/pagination.js';
import { apiClient, timeoutArg, TIMEOUT_HELP, TOKEN_HELP, URL_HELP } from '../api-options.js';
import { printJson, printLine, printTable } from '../output.js';
import { intArg } from '../parse.js';

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

  notification
    .command('list')
    .description('list notifications, newest first (a customer sees only their own; the admin sees all)')
    .option('--order <idOrReference>', 'only the notifications of this order (id or reference BF-…)')
    .option('--limit <n>', PAGE_LIMIT_HELP, intArg(1, MAX_PAGE_LIMIT))
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--url <url>', URL_HELP)
    .option('--timeout <duration>', TIMEOUT_HELP, timeoutArg)
    .option('--token <token>', TOKEN_HELP)
    .option('--json', 'print { items: [{ id, orderId, kind, message, createdAt }], nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow notification list --order BF-00000001\n  $ buildflow notification list --limit 100 --json')
    .action(async (opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const page = await api.get<Page<NotificationView>>('/v1/notifications', { order: opts.order, limit: opts.limit, cursor: opts.cursor });
      if (opts.json) return printJson(page);
      if (page.items.length === 0) return printLine('no notifications');
      printTable(['at', 'order', 'kind', 'message'], page.items.map((n) => [n.createdAt, n.orderReference, n.kind, n.message]));
      if (page.nextCursor) printLine(`more: --cursor ${page.nextCursor}`);
    });
}
