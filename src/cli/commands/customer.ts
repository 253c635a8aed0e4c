import type { Command } from '@commander-js/extra-typings';
import type { CustomerView } from '../../core/customers/customers.js';
import type { Page } from '../../core/pagination.js';
import { argPath } from '../arg-path.js';
import { apiClient, apiOptions, pageOptions, serverOptions } from '../api-options.js';
import { printJson, printLine, printNote, printPage, printRecord, tableOf } from '../output.js';
import { readPassword } from '../read-password.js';


function printCustomer(c: CustomerView, json: boolean | undefined): void {
  if (json) return printJson(c);
  printRecord([['id', c.id], ['email', c.email], ['name', c.name], ['disabled', c.disabled ? 'yes' : 'no'], ['created', c.createdAt]]);
}

export function registerCustomer(program: Command): void {
  const customer = program
    .command('customer')
    .description('customer accounts through the HTTP API')
    .addHelpText(
      'after',
      `
Examples:
  $ printf '%s\\n' "$PASSWORD" | buildflow customer create --email ada@example.com --name Ada
  $ BUILDFLOW_ADMIN_KEY=$(cat .buildflow/admin-key) buildflow customer list
  $ buildflow customer disable "$CUSTOMER_ID"`,
    );

  serverOptions(
    customer
      .command('create')
      .description('sign a customer up (the password comes from stdin or BUILDFLOW_PASSWORD)')
      .requiredOption('--email <email>', 'the email the customer signs in with')
      .requiredOption('--name <name>', 'the customer name'),
  )
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
      const api = await apiClient(opts);
      const created = await api.post<CustomerView>('/v1/customers', { email: opts.email, name: opts.name, password }, {}, {}, {
        fields: { email: '--email', name: '--name', password: 'the password' },
      });
      printCustomer(created, opts.json);
    });

  apiOptions(
    pageOptions(
      customer
        .command('list')
        .description('list customers, newest first (admin)'),
    ),
  )
    .option('--json', 'print { items, nextCursor? } as JSON')
    .addHelpText('after', '\nExamples:\n  $ BUILDFLOW_ADMIN_KEY=… buildflow customer list\n  $ buildflow customer list --limit 100 --json')
    .action(async (opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const page = await api.get<Page<CustomerView>>('/v1/customers', { limit: opts.limit, cursor: opts.cursor });
      printPage(page, opts.json, tableOf('no customers', ['id', 'email', 'name', 'disabled', 'created'], (c) => [c.id, c.email, c.name, c.disabled ? 'yes' : 'no', c.createdAt]));
    });

  apiOptions(customer.command('disable').description('disable a customer and revoke their tokens (admin)').argument('<id>', 'customer id'))
    .option('--json', 'print the customer as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow customer disable "$CUSTOMER_ID"')
    .action(async (id, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      printCustomer(await api.post<CustomerView>(argPath('/v1/customers/{id}/disable', { id: ['<id>', id] }), {}), opts.json);
    });
}

export function registerLogin(program: Command): void {
  serverOptions(
    program
      .command('login')
      .description('sign in as a customer and keep the token for later commands')
      .requiredOption('--email <email>', 'the customer email')
      .option('--print-token', 'print the token on stdout instead of saving it (for BUILDFLOW_TOKEN in scripts)'),
  )
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
      const api = await apiClient(opts);
      const issued = await api.post<{ token: string; expiresAt: string }>('/v1/auth/token', { email: opts.email, password });
      if (opts.printToken) return opts.json ? printJson(issued) : printLine(issued.token);
      const { saveLogin } = await import('../credentials.js');
      const file = saveLogin({ url: api.baseUrl, email: opts.email, token: issued.token, expiresAt: issued.expiresAt });
      if (opts.json) return printJson({ email: opts.email, expiresAt: issued.expiresAt, file });
      printNote(`signed in as ${opts.email} until ${issued.expiresAt}; token saved in ${file}`);
    });
}

export function registerLogout(program: Command): void {
  serverOptions(program.command('logout').description('revoke the saved token and forget it'))
    .addHelpText('after', '\nExamples:\n  $ buildflow logout')
    .action(async (opts) => {
      const { loadLogin, removeLogin } = await import('../credentials.js');
      const saved = loadLogin();
      if (!saved) return printNote('not signed in');
      const api = await apiClient({ url: opts.url ?? saved.url, timeout: opts.timeout }, { token: saved.token });
      try {
        await api.delete('/v1/auth/token');
      } finally {
        removeLogin();
      }
      printNote(`signed out ${saved.email}`);
    });
}
