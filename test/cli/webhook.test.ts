import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { assertBuilt, hasStackTrace, json, runCli, startServer, tempDir, type RunResult } from './harness.js';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.js';

// `buildflow webhook …` against a real `buildflow serve` (with its workers) and a real receiver.
const tmp = tempDir('buildflow-cli-webhook-');
let server: Awaited<ReturnType<typeof startServer>>;
let receiver: WebhookReceiver;
let failing = true;
const cli = (...args: string[]): Promise<RunResult> => runCli([...args, '--url', server.url]);

beforeAll(async () => {
  assertBuilt();
  receiver = await new WebhookReceiver((_n, _req, reply) => (failing ? reply.code(500).send('not yet') : { ok: true })).start();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir, [], { BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1', BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '0,50ms' });
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  tmp.remove();
});

describe('buildflow webhook', () => {
  it('when an endpoint is added, listed, disabled, enabled, rotated, its dead delivery replayed and it is removed, then each step prints what it did', async () => {
    const added = await cli('webhook', 'add', `${receiver.url}/cli`, '--event', 'order.confirmed', '--description', 'from the CLI', '--json');
    expect(added.code, added.stderr).toBe(0);
    const ep = json(added);
    expect(ep).toMatchObject({ url: `${receiver.url}/cli`, events: ['order.confirmed'], description: 'from the CLI', enabled: true, secret: expect.stringMatching(/^whsec_/) });

    const text = await cli('webhook', 'get', ep.id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(ep.id);
    expect(text.stdout).not.toContain(ep.secret);
    expect(json(await cli('webhook', 'list', '--json')).items.map((e: { id: string }) => e.id)).toEqual([ep.id]);
    expect(json(await cli('webhook', 'disable', ep.id, '--json')).enabled).toBe(false);
    expect(json(await cli('webhook', 'enable', ep.id, '--json')).enabled).toBe(true);
    const rotated = json(await cli('webhook', 'rotate', ep.id, '--json'));
    expect(rotated.secret).not.toBe(ep.secret);

    const order = await cli('order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--json');
    expect(order.code, order.stderr).toBe(0);
    let dead: any[] = [];
    await waitFor('a dead delivery', async () => {
      dead = json(await cli('webhook', 'deliveries', ep.id, '--status', 'dead', '--json')).items;
      return dead.length === 1;
    });
    expect(dead[0].log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500]);
    const table = await cli('webhook', 'deliveries', ep.id);
    expect(table.stdout).toContain(dead[0].id);

    failing = false;
    const replayed = await cli('webhook', 'replay', ep.id, dead[0].id, '--json');
    expect(replayed.code, replayed.stderr).toBe(0);
    await waitFor('the replay to arrive', () => receiver.received.length === 3);
    const last = receiver.received[2]!;
    expect(last.headers['webhook-id']).toBe(dead[0].id);
    expect((new Webhook(rotated.secret).verify(last.body, last.headers) as { type: string }).type).toBe('order.confirmed');
    expect(json(await cli('webhook', 'replay', ep.id, '--since', '2000-01-01T00:00:00Z', '--json'))).toEqual({ replayed: 0 });

    expect(json(await cli('webhook', 'remove', ep.id, '--json'))).toEqual({ id: ep.id, removed: true });
    expect(json(await cli('webhook', 'list', '--json')).items).toEqual([]);
    // Some twenty CLI processes in a row: on a loaded machine each start takes seconds.
  }, 180_000);

  it('when the input is bad, then one line on stderr and a distinct exit code', async () => {
    const unknownEvent = await cli('webhook', 'add', 'https://example.com/x', '--event', 'order.exploded');
    expect(unknownEvent.code).toBe(4);
    expect(unknownEvent.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknownEvent.stderr).toContain('order.exploded');
    expect(hasStackTrace(unknownEvent.stderr)).toBe(false);

    const missing = await cli('webhook', 'get', 'ep_missing');
    expect(missing.code).toBe(3);
    const neither = await cli('webhook', 'replay', 'ep_missing');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('either a delivery id or --since');
  });
});

describe('SMTP settings at start', () => {
  it.each([
    [{ BUILDFLOW_SMTP_URL: 'smtp://127.0.0.1:2525' }, 'BUILDFLOW_MAIL_FROM is required'],
    [{ BUILDFLOW_SMTP_URL: 'http://mail.example.com', BUILDFLOW_MAIL_FROM: 'shop@example.com' }, 'BUILDFLOW_SMTP_URL'],
    [{ BUILDFLOW_SMTP_URL: 'smtp://127.0.0.1:2525', BUILDFLOW_MAIL_FROM: 'not an address' }, 'BUILDFLOW_MAIL_FROM'],
  ])('when the settings are %j, then serve and worker refuse to start with one line and exit 2', async (env, text) => {
    for (const args of [['serve', '--port', '0'], ['worker']]) {
      const r = await runCli([...args, '--data-dir', tmp.dir], { env: env as Record<string, string> });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(text);
    }
  });
});
