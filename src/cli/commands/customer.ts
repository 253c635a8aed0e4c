import type { Command } from '@commander-js/extra-typings';
import { PAGE_LIMIT_HELP } from '../setting-help.js';
import type { CustomerView } from '../../core/customers/customers.js';
import type { Page } from '../../core/pagination.js';
import { printJson, printLine, printNote, printRecord, printTable } from '../output.js';
import { intArg } from '../parse.js';
import { readPassword } from '../read-password.js';

const http = () => import('../http-client.js');
const URL_HELP = 'API base URL (env BUILDFLOW_URL, default http://127.0.0.1:3000)';
const TOKEN_HELP = 'bearer token (env BUILDFLOW_TOKEN; default: the saved login, else BUILDFLOW_ADMIN_KEY)';

function printCustomer(c: CustomerView, json: boolean | undefined): void {
  if (json) return printJson(c);
  printRecord([
    ['id', c.id],
    ['email', c.email],
    ['name', c.name],
    ['disabled', c.disabled ? 'yes' : 'no'],
    ['created', c.createdAt],
  ]);
}

export function registerCustomer(program: Command): void {
  const customer = program.command('customer').description('customer accounts through the HTTP API');

  customer
    .command('create')
    .description('sign a customer up (the password comes from stdin or BUILDFLOW_PASSWORD)')
    .requiredOption('--email <email>', 'the email the customer signs in with')
    .requiredOption('--name <name>', 'the customer name')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print the customer as JSON')
    .addHelpText(
      'after',
      `
The password is read from BUILDFLOW_PASSWORD or the first line of stdin, never from a flag.

Examples:
  $ printf '%s\\n' "$PASSWORD" | buildflow customer create --email ada@example.com --name Ada
  $ BUILDFLOW_PASSWORD=… buildflow customer create --email ada@example.com --name Ada --json`,
    )
    .action(async (opts) => {
      const password = await readPassword();
      const api = (await http()).clientFor(opts.url);
      printCustomer(await api.post<CustomerView>('/v1/customers', { email: opts.email, name: opts.name, password }), opts.json);
    });

  customer
    .command('list')
    .description('list customers, newest first (admin)')
    .option('--limit <n>', PAGE_LIMIT_HELP, intArg(1, 100))
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .option('--json', 'print { items, nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ BUILDFLOW_ADMIN_KEY=… buildflow customer list\n  $ buildflow customer list --limit 100 --json')
    .action(async (opts) => {
      const api = (await http()).clientFor(opts.url, { token: opts.token });
      const page = await api.get<Page<CustomerView>>('/v1/customers', { limit: opts.limit, cursor: opts.cursor });
      if (opts.json) return printJson(page);
      if (page.items.length === 0) return printLine('no customers');
      printTable(['id', 'email', 'name', 'disabled', 'created'], page.items.map((c) => [c.id, c.email, c.name, c.disabled ? 'yes' : 'no', c.createdAt]));
      if (page.nextCursor) printLine(`more: --cursor ${page.nextCursor}`);
    });

  customer
    .command('disable')
    .description('disable a customer and revoke their tokens (admin)')
    .argument('<id>', 'customer id')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .option('--json', 'print the customer as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow customer disable 5b0c…-uuid')
    .action(async (id, opts) => {
      const api = (await http()).clientFor(opts.url, { token: opts.token });
      printCustomer(await api.post<CustomerView>(`/v1/customers/${encodeURIComponent(id)}/disable`, {}), opts.json);
    });
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('sign in as a customer and keep the token for later commands')
    .requiredOption('--email <email>', 'the customer email')
    .option('--print-token', 'print the token on stdout instead of saving it (for BUILDFLOW_TOKEN in scripts)')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print { email, expiresAt, file } (or { token, expiresAt } with --print-token) as JSON')
    .addHelpText(
      'after',
      `
The password is read from BUILDFLOW_PASSWORD or the first line of stdin. The token is saved to
<config dir>/credentials.json (mode 0600; config dir: BUILDFLOW_CONFIG_DIR, else
$XDG_CONFIG_HOME/buildflow, else ~/.config/buildflow) and used by later commands against the same URL.

Examples:
  $ printf '%s\\n' "$PASSWORD" | buildflow login --email ada@example.com
  $ export BUILDFLOW_TOKEN=$(printf '%s\\n' "$PASSWORD" | buildflow login --email ada@example.com --print-token)`,
    )
    .action(async (opts) => {
      const password = await readPassword();
      const api = (await http()).clientFor(opts.url);
      const issued = await api.post<{ token: string; expiresAt: string }>('/v1/auth/token', { email: opts.email, password });
      if (opts.printToken) return opts.json ? printJson(issued) : printLine(issued.token);
      const { saveLogin } = await import('../credentials.js');
      const file = saveLogin({ url: api.baseUrl, email: opts.email, token: issued.token, expiresAt: issued.expiresAt });
      if (opts.json) return printJson({ email: opts.email, expiresAt: issued.expiresAt, file });
      printNote(`signed in as ${opts.email} until ${issued.expiresAt}; token saved in ${file}`);
    });

  program
    .command('logout')
    .description('revoke the saved token and forget it')
    .option('--url <url>', URL_HELP)
    .addHelpText('after', '\nExamples:\n  $ buildflow logout')
    .action(async (opts) => {
      const { loadLogin, removeLogin } = await import('../credentials.js');
      const saved = loadLogin();
      if (!saved) return printNote('not signed in');
      const api = (await http()).clientFor(opts.url ?? saved.url, { token: saved.token });
      try {
        await api.delete('/v1/auth/token');
      } finally {
        removeLogin();
      }
      printNote(`signed out ${saved.email}`);
    });
}
