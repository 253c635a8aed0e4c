import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ADMIN_KEY, assertBuilt, json, runCli } from '../harness.js';
import { startBrokenTarget, type Flaw } from './broken-target.js';

// Each run is short and small: a second of load from 2 customers against a fake on loopback.
const SHORT = ['--duration', '1s', '--customers', '2', '--connections', '4', '--settle-timeout', '1500ms', '--json'];

let close: (() => Promise<void>) | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function runAgainst(flaw: Flaw, extra: string[] = []) {
  const target = await startBrokenTarget(flaw, CLI_ADMIN_KEY);
  close = target.close;
  const result = await runCli(['loadtest', '--url', target.url, ...SHORT, ...extra]);
  const report = json(result);
  const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
  return { result, report, byName };
}

describe('loadtest checks against deliberately broken targets', () => {
  it('when the target keeps every promise, then every check passes (doctor skipped for a --url target) and the exit code is 0', async () => {
    const { result, report, byName } = await runAgainst('none');
    expect(result.code, result.stderr).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.checks.filter((c: { status: string }) => c.status === 'fail')).toEqual([]);
    expect(byName.doctor.status).toBe('skip');
    expect(byName['money-reconciles']).toMatchObject({ status: 'skip', detail: expect.stringContaining('--url') });
    expect(report.outcomes.accepted).toBeGreaterThan(3);
  });

  it('when the target loses an acknowledged order, then accepted-orders-final fails naming it, and the exit code is 11', async () => {
    const { result, byName } = await runAgainst('lose-order');
    expect(result.code).toBe(11);
    const check = byName['accepted-orders-final'];
    expect(check.status).toBe('fail');
    expect(check.count).toBe(1);
    expect(check.first.message).toMatch(/^order [0-9a-f-]{36} got 201 but the target does not have it$/);
    expect(check.samples).toHaveLength(1);
    expect(check.first.message).toContain(check.samples[0]);
    expect(result.stderr).toContain('error: checks failed: accepted-orders-final');
  });

  it('when the target answers two different orders for one Idempotency-Key, then one-order-per-key fails with both ids', async () => {
    const { result, byName } = await runAgainst('duplicate-key', ['--retry-share', '0.5', '--read-share', '0']);
    expect(result.code).toBe(11);
    const check = byName['one-order-per-key'];
    expect(check.status).toBe('fail');
    expect(check.count).toBeGreaterThan(0);
    expect(check.worst.message).toMatch(/^Idempotency-Key lt-[0-9a-f]+-\d+ answered 2 different orders: [0-9a-f-]{36}, [0-9a-f-]{36}$/);
    expect(check.worst.ids).toHaveLength(2);
  });

  it('when the target oversells, then no-oversell fails with the units oversold, and impossible stock reads are caught too', async () => {
    const { result, byName } = await runAgainst('oversell', ['--hot-stock', '8', '--hot-units', '2', '--read-share', '0.3']);
    expect(result.code).toBe(11);
    const check = byName['no-oversell'];
    expect(check.status).toBe('fail');
    expect(check.worst.message).toMatch(/^FAKE-\d: \d+ units sold of 2 on hand \(oversold by \d+\); now on hand -\d+, reserved 0$/);
    expect(check.samples[0]).toMatch(/^FAKE-\d$/);
    expect(byName['stock-reads-consistent'].status).toBe('fail');
    expect(byName['stock-reads-consistent'].first.message).toMatch(/^FAKE-\d read with on hand -\d+/);
  });

  it('when the target answers 500s, then no-5xx fails with each request, and the errors are counted by status', async () => {
    const { result, report, byName } = await runAgainst('errors', ['--read-share', '0']);
    expect(result.code).toBe(11);
    const check = byName['no-5xx'];
    expect(check.status).toBe('fail');
    expect(check.first.message).toMatch(/^order #\d+ answered 500 INTERNAL$/);
    expect(check.count).toBe(report.errors.byStatus['500']);
    expect(report.errors.fiveXx).toBeGreaterThan(0);
  });

  it('when the target charges an order twice, then charged-once fails naming it', async () => {
    const { result, byName } = await runAgainst('double-charge');
    expect(result.code).toBe(11);
    expect(byName['charged-once'].status).toBe('fail');
    expect(byName['charged-once'].first.message).toMatch(/^order [0-9a-f-]{36} is confirmed with 2 captured payments$/);
  });

  it('when the target notifies an order twice, then one-notification-per-event fails naming it', async () => {
    const { result, byName } = await runAgainst('double-notify');
    expect(result.code).toBe(11);
    expect(byName['one-notification-per-event'].first.message).toMatch(/^order [0-9a-f-]{36} \((confirmed|cancelled)\) has 2 order_(confirmed|cancelled) notifications, expected 1$/);
  });

  it('when stock drifts from its ledger, then stock-matches-ledger fails with both sides', async () => {
    const { result, byName } = await runAgainst('ledger-drift');
    expect(result.code).toBe(11);
    expect(byName['stock-matches-ledger'].first.message).toMatch(/^FAKE-0: on hand \d+ vs ledger \d+, reserved 0 vs ledger 0$/);
  });

  it('when a check fails and a threshold is missed, then the checks win: exit 11, and the text report shows ✗ with the evidence', async () => {
    const target = await startBrokenTarget('lose-order', CLI_ADMIN_KEY);
    close = target.close;
    // A rate no run reaches: a latency bound, however small, can be met by a fast enough machine.
    const result = await runCli(['loadtest', '--url', target.url, ...SHORT.filter((a) => a !== '--json'), '--threshold', 'intake.rps>=1000000']);
    expect(result.code).toBe(11);
    expect(result.stdout).toMatch(/✗ │ accepted-orders-final/);
    expect(result.stdout).toMatch(/first: order [0-9a-f-]{36} got 201 but the target does not have it/);
    expect(result.stdout).toMatch(/✗ │ intake\.rps>=1000000/);
  });
});
