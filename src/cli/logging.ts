import { pino, type Logger, type LoggerOptions } from 'pino';
import { useColor } from './output.js';

/**
 * Logger settings for the long-running commands: JSON lines on stdout, pretty only for a person at
 * a terminal (pino-pretty runs in a worker thread, which a pipe or a log collector does not need).
 */
// Credentials never reach the logs, even if a serializer or a debug line picks up headers or bodies.
const REDACT = {
  paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.password', '*.token', 'password', 'token'],
  censor: '[redacted]',
};

export function loggerOptions(level: string): LoggerOptions {
  if (!process.stdout.isTTY) return { level, redact: REDACT };
  return { level, redact: REDACT, transport: { target: 'pino-pretty', options: { colorize: useColor(), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } };
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}
