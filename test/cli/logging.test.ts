import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, scrubText } from '../../src/cli/logging.js';

function capture(): { logger: Logger; lines(): Record<string, unknown>[]; text(): string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return {
    logger: pino(loggerOptions('debug'), stream),
    lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => out,
  };
}

describe('log redaction', () => {
  it('when a line carries credentials in fields, headers, error messages, URLs or the message, then none of them is written', () => {
    const c = capture();
    c.logger.info({ password: 'hunter2-password', token: 'bft_abcdefghijkl', adminKey: 'admin-key-0123456789' }, 'fields');
    c.logger.info({ req: { headers: { authorization: 'Bearer secret-bearer-123', cookie: 'sid=secret-cookie' } } }, 'headers');
    c.logger.info({ body: { email: 'a@example.com', password: 'nested-password' } }, 'nested');
    c.logger.error({ err: new Error('connect to postgres://shop:db-password@db.internal/shop failed') }, 'db');
    c.logger.warn({ url: 'redis://:redis-password@queue:6379' }, 'redis');
    c.logger.info('signed in with bft_0123456789abcdef and Bearer another-secret');
    const text = c.text();
    for (const secret of ['hunter2-password', 'bft_abcdefghijkl', 'admin-key-0123456789', 'secret-bearer-123', 'secret-cookie', 'nested-password', 'db-password', 'redis-password', 'bft_0123456789abcdef', 'another-secret']) {
      expect(text, secret).not.toContain(secret);
    }
    const lines = c.lines();
    expect(lines).toHaveLength(6);
    expect(lines[2]).toMatchObject({ body: { email: 'a@example.com', password: '[redacted]' } });
    expect(lines[3]).toMatchObject({ err: { message: 'connect to postgres://[redacted]@db.internal/shop failed' } });
    expect(lines[4]).toMatchObject({ url: 'redis://[redacted]@queue:6379' });
  });

  it('when text has no credential, then it is left as it is', () => {
    expect(scrubText('order BF-0000001A confirmed at http://127.0.0.1:3000/v1/orders')).toBe('order BF-0000001A confirmed at http://127.0.0.1:3000/v1/orders');
  });
});
