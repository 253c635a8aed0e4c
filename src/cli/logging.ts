import { destination, pino, type Logger, type LoggerOptions } from 'pino';
import { useColor } from './output.js';

// Credentials never reach the logs, even if a serializer or a debug line picks up headers, bodies
// or settings: these fields are replaced wherever they appear (one level deep, and at the top).
const SECRET_FIELDS = ['password', 'token', 'adminKey', 'carrierKey', 'metricsKey', 'tokenSecret', 'secret', 'authorization', 'cookie'];
const REDACT = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'headers.cookie',
    ...SECRET_FIELDS,
    ...SECRET_FIELDS.map((f) => `*.${f}`),
  ],
  censor: '[redacted]',
};

// Secrets that can hide inside a string (an error message, a URL): credentials in a URL, a bearer
// credential, a sign-in token.
const IN_TEXT: [RegExp, string][] = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, '$1[redacted]@'],
  [/\b(Bearer)\s+\S+/gi, '$1 [redacted]'],
  [/\bbft_[A-Za-z0-9_-]+/g, '[redacted]'],
];

/** `text` with any credential it carries replaced. */
export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of IN_TEXT) out = out.replace(pattern, replacement);
  return out;
}

function scrubValues(obj: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    let next: unknown = v;
    if (typeof v === 'string') next = scrubText(v);
    else if (v instanceof Error) next = { type: v.name, message: scrubText(v.message), ...(v.stack ? { stack: scrubText(v.stack) } : {}) };
    else if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { message?: unknown }).message === 'string') {
      next = { ...(v as object), message: scrubText((v as { message: string }).message) };
    }
    if (next !== v) (copy ??= { ...obj })[k] = next;
  }
  return copy ?? obj;
}

/**
 * pino-pretty's settings: one line per request and per settled order (their fields are folded into
 * the message, any others follow on the same line as JSON) instead of one line per field. Only an
 * error's stack still takes more lines. JSON output (not a terminal) keeps every field as it is.
 */
export function prettyOptions(colorize: boolean): Record<string, unknown> {
  return {
    destination: 2,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ignore: 'pid,hostname,method,route,path,statusCode,durationMs,reference,totalCents,total,sincePlacedMs',
    messageFormat:
      '{msg}{if method} {method} {path} → {statusCode} in {durationMs} ms{end}{if reference} {reference}{end}' +
      '{if total} total {total}{end}{if sincePlacedMs} after {sincePlacedMs} ms{end}',
  };
}

/**
 * Logger settings for the long-running commands: JSON lines on stderr (stdout is for data), pretty
 * only for a person at a terminal (pino-pretty runs in a worker thread, which a pipe or a log
 * collector does not need). Every line goes through the redaction above.
 */
export function loggerOptions(level: string): LoggerOptions {
  const base: LoggerOptions = {
    level,
    redact: REDACT,
    formatters: { log: scrubValues },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  if (!process.stderr.isTTY) return base;
  return { ...base, transport: { target: 'pino-pretty', options: prettyOptions(useColor(process.stderr)) } };
}

/** The logger of `serve` and `worker`: see {@link loggerOptions}. */
export function createLogger(level: string): Logger {
  const options = loggerOptions(level);
  // A transport writes where its options say; plain JSON goes to fd 2 synchronously, so the last lines before an exit are not lost.
  return options.transport ? pino(options) : pino(options, destination({ dest: 2, sync: true }));
}
