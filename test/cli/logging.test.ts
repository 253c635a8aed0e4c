import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, prettyOptions, scrubText } from '../../src/cli/logging.js';

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

describe('the pretty (terminal) log', () => {
  const pretty = async () => {
    const { prettyFactory } = (await import('pino-pretty')) as unknown as { prettyFactory: (o: object) => (line: object) => string };
    return prettyFactory({ ...prettyOptions(false), destination: undefined });
  };
  const base = { level: 30, time: Date.parse('2026-12-07T10:00:00Z'), pid: 1, hostname: 'h' };

  it('when a request is answered, then it takes one line that says method, path, status and duration', async () => {
    const out = (await pretty())({ ...base, reqId: 'r-1', method: 'POST', route: '/v1/orders', path: '/v1/orders', statusCode: 201, durationMs: 3.2, msg: 'request' });
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out).toContain('INFO: request POST /v1/orders → 201 in 3.2 ms {"reqId":"r-1"}');
  });

  it('when an order settles, then it takes one line with its reference, total and time since placed', async () => {
    const out = (await pretty())({
      ...base,
      orderId: 'o-1',
      reference: 'BF-0000001A',
      status: 'confirmed',
      reason: null,
      totalCents: 12900,
      total: '129.00',
      sincePlacedMs: 340,
      topic: 'confirm',
      messageId: 'm-1',
      attempt: 1,
      msg: 'order confirmed',
    });
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out).toContain('INFO: order confirmed BF-0000001A total 129.00 after 340 ms {"orderId":"o-1"');
  });
});
