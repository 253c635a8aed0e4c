import type { Command } from '@commander-js/extra-typings';
import { argPath, type ArgPath } from './arg-path.js';

/** A subcommand about one order: named by its `<idOrReference>`, the first argument of every such command. */
export function orderSubcommand(parent: Command, name: string, description: string) {
  return parent.command(name).description(description).argument('<idOrReference>', 'order id or reference (BF-…)');
}

/** An API path under the order named by `<idOrReference>` (`rest` such as '/refunds'), so a refusal names that argument. */
export function orderPath(idOrReference: string, rest = ''): ArgPath {
  return argPath(`/v1/orders/{id}${rest}`, { id: ['<idOrReference>', idOrReference] });
}
