import type { Command } from '@commander-js/extra-typings';

/**
 * The one credential rule, stated the same in `--help` and the README (a flag beats the
 * environment beats a saved file); `bearerFor` in credentials.ts applies it. Kept here, beside the command
 * list, because the top-level help shows it and must not load the credentials module to do so.
 */
export const CREDENTIAL_RULE =
  'credentials: --token, else BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY, else the login saved by `buildflow login` for the same --url';

/** A top-level command: its name and one-line description for the command list, and how to load it. */
export interface CommandEntry {
  name: string;
  description: string;
  /** Imports the command's file and returns the function that registers it in full. */
  load(): Promise<(program: Command) => void>;
}

/**
 * Every top-level command. Only the command being run is loaded (its file, and what that file
 * imports); the others appear in `buildflow --help` by name and description alone, so a command
 * never pays to load another's code. A new command is one entry here; its description must be the
 * one its file gives (test/cli/lazy-start.test.ts checks).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'serve', description: 'run the HTTP API, with the pipeline workers in the same process', load: async () => (await import('./commands/serve.js')).registerServe },
  { name: 'worker', description: 'run pipeline workers, the outbox relay and the sweeper (for `serve --no-worker` deployments)', load: async () => (await import('./commands/worker.js')).registerWorker },
  { name: 'migrate', description: 'apply pending database migrations (serve and worker also do this on start)', load: async () => (await import('./commands/migrate.js')).registerMigrate },
  { name: 'seed', description: 'load a product catalog into the database (safe to run again: stock is kept)', load: async () => (await import('./commands/seed.js')).registerSeed },
  { name: 'product', description: 'browse the catalog through the HTTP API (no sign-in needed)', load: async () => (await import('./commands/product.js')).registerProduct },
  { name: 'customer', description: 'customer accounts through the HTTP API', load: async () => (await import('./commands/customer.js')).registerCustomer },
  { name: 'login', description: 'sign in as a customer and keep the token for later commands', load: async () => (await import('./commands/customer.js')).registerLogin },
  { name: 'logout', description: 'revoke the saved token and forget it', load: async () => (await import('./commands/customer.js')).registerLogout },
  { name: 'order', description: 'place and follow orders through the HTTP API', load: async () => (await import('./commands/order.js')).registerOrder },
  { name: 'notification', description: "the notifications the pipeline wrote for the caller's orders (confirmed, cancelled, shipped …)", load: async () => (await import('./commands/notification.js')).registerNotification },
  { name: 'return', description: 'receive returned goods (admin): restock them and refund their price', load: async () => (await import('./commands/returns.js')).registerReturn },
  { name: 'shipment', description: 'report shipment progress (admin or carrier)', load: async () => (await import('./commands/shipment.js')).registerShipment },
  { name: 'track', description: 'follow a shipment by its tracking code (no sign-in needed)', load: async () => (await import('./commands/shipment.js')).registerTrack },
  { name: 'webhook', description: 'manage webhook endpoints and their deliveries (admin)', load: async () => (await import('./commands/webhook.js')).registerWebhook },
  { name: 'loadtest', description: 'load a deployment, then check that no accepted order was lost, oversold, charged twice or left stuck', load: async () => (await import('./commands/loadtest.js')).registerLoadtest },
  { name: 'pipeline', description: 'pause, resume and inspect the order steps (admin, over HTTP)', load: async () => (await import('./commands/pipeline.js')).registerPipeline },
  { name: 'dead-letters', description: 'inspect, re-drive and discard pipeline messages that ran out of attempts (on the database)', load: async () => (await import('./commands/dead-letters.js')).registerDeadLetters },
  { name: 'dashboard', description: 'watch the pipeline live: queue depths per step, orders, rates, latency, workers, alerts (admin key)', load: async () => (await import('./commands/dashboard.js')).registerDashboard },
  { name: 'doctor', description: 'check a deployment: database, migrations, outbox backlog, stuck orders, stock vs ledger, Redis', load: async () => (await import('./commands/doctor.js')).registerDoctor },
];

/**
 * The command a command line runs: the first word that is not a flag (`buildflow help order` asks
 * about `order`). Undefined for `buildflow`, `--help` and `--version`.
 */
export function commandNameIn(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
