import { LIMITS } from '../core/domain/limits.js';
import type { RequestedItem } from '../core/domain/pricing.js';
import type { PathArgs } from './arg-path.js';
import { CliError } from './cli-error.js';

/** What the user typed, so the API's field paths can be said back in those words. */
export interface UserInputs {
  /** Body field → the flag that set it (`email` → `--email`). */
  fields?: Record<string, string>;
  /** Query parameter → flag (`customerId` → `--customer`). */
  query?: Record<string, string>;
  /** Header → flag (`idempotency-key` → `--idempotency-key`). */
  headers?: Record<string, string>;
  /** The items given as `--item SKU:QTY`, in order; absent when the order came as JSON on stdin. */
  items?: readonly RequestedItem[];
  /** The positional arguments carried in the request path. */
  path?: PathArgs;
}

/** The patterns the API checks path arguments against, in words. */
const PATTERN_WORDS: Record<string, string> = {
  '^[A-Za-z0-9]+$': 'may contain only letters and digits',
  [LIMITS.skuPattern.source]: 'must be letters, digits, ".", "_" or "-" (starting with a letter or digit), at most 64 characters',
};

/** Ajv's comparisons in words: "must be <= 10000" → "must be at most 10000". */
function plainWords(text: string): string {
  return text
    .replace(/must be <= /g, 'must be at most ')
    .replace(/must be >= /g, 'must be at least ')
    .replace(/must be < /g, 'must be below ')
    .replace(/must be > /g, 'must be above ')
    .replace(/must NOT have more than (\d+) items/g, 'may have at most $1 items')
    .replace(/must NOT have fewer than (\d+) items/g, 'needs at least $1 items')
    .replace(/must NOT have more than (\d+) characters/g, 'may have at most $1 characters')
    .replace(/must NOT have fewer than 1 characters/g, 'must not be empty')
    .replace(/must NOT have fewer than (\d+) characters/g, 'needs at least $1 characters')
    .replace(/must match pattern "([^"]*)"/g, (said, pattern: string) => PATTERN_WORDS[pattern] ?? said);
}

/**
 * The API names the field it refused by its place in the request (`body.items[0].quantity`,
 * `path.id`); the user typed a flag or an argument. Rewrites a VALIDATION_FAILED message to name
 * the flag, the `--item` or the argument (`<sku>`) the user gave, and a URI_TOO_LONG refusal (a
 * path segment over the server's length limit, which names nothing) to name the argument; every
 * other error passes through unchanged.
 */
export function inUserTerms(err: unknown, inputs: UserInputs): unknown {
  if (!(err instanceof CliError)) return err;
  let message = err.message;
  if (err.code === 'VALIDATION_FAILED') message = rewrite(err.message, inputs);
  else if (err.code === 'URI_TOO_LONG' && inputs.path) message = tooLong(inputs.path) ?? err.message;
  return message === err.message ? err : new CliError(err.code, message, { exitCode: err.exitCode });
}

/**
 * The server's limit is on each path segment as sent (encoded): the argument that encodes longest
 * is over it, whichever the limit is.
 */
function tooLong(args: PathArgs): string | undefined {
  const sent = (arg: readonly [string, string]) => encodeURIComponent(arg[1]).length;
  const longest = Object.values(args).reduce<readonly [string, string] | undefined>((a, b) => (a && sent(a) >= sent(b) ? a : b), undefined);
  return longest && `${longest[0]} is too long (${longest[1].length} characters)`;
}

function rewrite(message: string, inputs: UserInputs): string {
  const item = /^(?:body\.)?items\[(\d+)\](?:\.(\w+))? (.*)$/.exec(message);
  if (item && inputs.items) {
    const given = inputs.items[Number(item[1])];
    if (given) return `--item ${given.sku}:${given.quantity}: ${item[2] ? `${item[2]} ` : ''}${plainWords(item[3]!)}`;
  }
  if (inputs.items && /^body\.items /.test(message)) return plainWords(message.replace(/^body\.items /, 'the order (--item) '));
  const named = /^(body|query|header|path)\.([\w-]+) (.*)$/.exec(message);
  if (named) {
    const table = named[1] === 'body' ? inputs.fields : named[1] === 'query' ? inputs.query : named[1] === 'header' ? inputs.headers : undefined;
    const flag = named[1] === 'path' ? inputs.path?.[named[2]!]?.[0] : table?.[named[2]!];
    if (flag) {
      // The header pattern is a regular expression; say what it means.
      const rest = /must match pattern "\^\[\\x20-\\x7E\]\+\$"/.test(named[3]!) ? 'must be printable ASCII (letters, digits, punctuation, spaces)' : plainWords(named[3]!);
      return `${flag} ${rest}`;
    }
  }
  // Stdin JSON: the JSON path is the user's own term; only drop the transport's prefix.
  return plainWords(message.replace(/^body\./, ''));
}
