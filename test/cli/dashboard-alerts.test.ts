import { describe, expect, it } from 'vitest';
import { alertsOf, EMPTY_DATA, withSnapshot } from '../../src/cli/dashboard/dashboard-model.js';
import { emptySnapshot } from './dashboard-fixtures.js';

const now = Date.now();
const alerts = (s: ReturnType<typeof emptySnapshot>) => alertsOf(withSnapshot(EMPTY_DATA, s, now), now);

describe('dashboard alerts', () => {
  it('when work is due and no live worker takes it, then the first alert says so and names the role', () => {
    const s = emptySnapshot();
    s.unattended = [{ role: 'steps', count: 1, what: 'pipeline messages', gone: [{ id: 'worker-1', host: 'shop-1', pid: 7, lastSeenAt: new Date(now - 5_000).toISOString() }] }];
    s.workers = [{ id: 'worker-1', host: 'shop-1', pid: 7, roles: ['steps'], transport: 'local', concurrency: 1, startedAt: new Date(now - 60_000).toISOString(), lastSeenAt: new Date(now - 5_000).toISOString(), handled: 3, state: 'gone' }];
    const [first, second] = alerts(s);
    expect(first).toEqual({ level: 'error', text: '1 pipeline message due and no live steps worker (1 gone): start buildflow worker', short: 'no steps worker' });
    expect(second).toMatchObject({ level: 'warn', text: '1 worker gone (no heartbeat)' });
  });

  it('when a Redis setting fails doctor, then it is an alert; accepted (BUILDFLOW_ACCEPT), it is none', () => {
    const failing = emptySnapshot();
    failing.settings = { accepted: [], checks: [{ name: 'redis-persistence', status: 'fail', detail: 'Redis appendonly is off: …', accepted: false }], checkedAt: new Date(now).toISOString() };
    expect(alerts(failing)).toEqual([{ level: 'error', text: 'Redis appendonly is off: …', short: 'redis-persistence' }]);

    const accepted = emptySnapshot();
    accepted.settings = {
      accepted: ['redis-persistence'],
      checks: [{ name: 'redis-persistence', status: 'warn', detail: 'accepted (BUILDFLOW_ACCEPT or --accept): Redis appendonly is off: …', accepted: true }],
      checkedAt: new Date(now).toISOString(),
    };
    expect(alerts(accepted)).toEqual([]);
  });

  it('when counts are one or many, then the words agree with them', () => {
    const s = emptySnapshot();
    s.orders.stuck.count = { count: 1, capped: false };
    expect(alerts(s)[0]!.text).toBe('1 order stuck over 60s');
    s.orders.stuck.count = { count: 2, capped: false };
    expect(alerts(s)[0]!.text).toBe('2 orders stuck over 60s');
  });
});
