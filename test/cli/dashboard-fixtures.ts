import type { StatsSnapshot, TopicStats } from '../../src/core/stats/snapshot-types.js';
import { moneyFromCounters } from '../../src/core/stats/money-stats.js';

/** A fixed moment, so frames (ages included) are the same on every run. */
export const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

const topic = (name: string, over: Partial<TopicStats> = {}): TopicStats => ({
  topic: name,
  pending: 0,
  waiting: 0,
  delayed: 0,
  active: 0,
  dead: 0,
  capped: false,
  oldestWaitingMs: null,
  succeeded: 0,
  failed: 0,
  redis: null,
  paused: null,
  ...over,
});

const TOPIC_NAMES = ['reserve', 'pay', 'confirm', 'notify', 'refund', 'ship', 'deliver'];

/** A deployment that has taken no order yet. */
export function emptySnapshot(generatedAgoMs = 0): StatsSnapshot {
  return {
    generatedAt: iso(generatedAgoMs),
    tookMs: 1.2,
    deployment: { cell: 'sqlite', storage: 'sqlite', transport: 'local', version: '0.1.0', host: 'shop-1', pid: 4242, uptimeMs: 90_000 },
    topics: TOPIC_NAMES.map((n) => topic(n)),
    orders: {
      byStatus: { pending: 0, reserved: 0, paid: 0, confirmed: 0, shipped: 0, delivered: 0, cancelled: 0 },
      cancelledByReason: { out_of_stock: 0, payment_declined: 0, reservation_expired: 0, customer_cancelled: 0, failed: 0 },
      stuck: { count: { count: 0, capped: false }, byStatus: {}, oldestAgeMs: null, stuckAfterMs: 60_000 },
      recent: [],
    },
    counters: { ordersPlaced: 0, ordersReserved: 0, ordersPaid: 0, ordersConfirmed: 0, ordersCancelled: 0 },
    money: moneyFromCounters(() => 0),
    rates: null,
    queue: null,
    latency: { windowMs: 60_000, samples: 0, samplesCapped: false, p50Ms: null, p95Ms: null, p99Ms: null },
    workers: [],
    unattended: [],
    settings: { accepted: [], checks: [], checkedAt: null },
    stock: {
      lowStockMark: 5,
      outOfStock: { count: 0, capped: false },
      lowStock: { count: 0, capped: false },
      reconciliation: { status: 'ok', detail: 'ok', drifting: 0, checkedAt: iso(12_000), ageMs: 12_000 },
    },
    deadLetters: [],
  };
}

/** A deployment under load, with a dead letter, stuck orders, a worker gone and a capped figure. */
export function busySnapshot(placed = 12_480, generatedAgoMs = 0): StatsSnapshot {
  const s = emptySnapshot(generatedAgoMs);
  s.deployment = { cell: 'postgres+redis', storage: 'postgres', transport: 'redis', version: '0.1.0', host: 'shop-1', pid: 4242, uptimeMs: 3_725_000 };
  // One queue carries every step, each job a batch of outbox ids.
  s.queue = { waiting: 4, active: 2, delayed: 0 };
  s.topics = [
    topic('reserve', { pending: 340, waiting: 310, active: 30, succeeded: placed - 340, oldestWaitingMs: 1_850 }),
    topic('pay', { pending: 180, waiting: 120, active: 48, delayed: 12, dead: 1, succeeded: 11_700, failed: 19, oldestWaitingMs: 920 }),
    topic('confirm', { pending: 25, waiting: 20, active: 5, succeeded: 11_020, oldestWaitingMs: 300 }),
    topic('notify', { pending: 60, waiting: 60, succeeded: 11_500, oldestWaitingMs: 2_400 }),
    topic('refund', { succeeded: 3 }),
    topic('ship', {}),
    topic('deliver', {}),
  ];
  s.orders.byStatus = { pending: 340, reserved: 190, paid: 30, confirmed: 10_960, shipped: 40, delivered: 20, cancelled: placed - 11_580 };
  s.orders.cancelledByReason = { out_of_stock: placed - 11_580 - 121, payment_declined: 117, reservation_expired: 2, customer_cancelled: 1, failed: 1 };
  s.orders.stuck = { count: { count: 2, capped: false }, byStatus: { reserved: 2 }, oldestAgeMs: 95_000, stuckAfterMs: 60_000 };
  s.orders.recent = Array.from({ length: 30 }, (_, i) => ({
    id: `0193a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    reference: `BF-${String(placed - i).padStart(8, '0')}`,
    status: (['pending', 'reserved', 'confirmed', 'cancelled'] as const)[i % 4]!,
    totalCents: 12_999 + i * 250,
    createdAt: iso(400 + i * 900),
  }));
  // Reserved counts the 121 cancelled after their reservation (declined, expired, by the customer, failed) too.
  s.counters = { ordersPlaced: placed, ordersReserved: 11_361, ordersPaid: 11_050, ordersConfirmed: 11_020, ordersCancelled: placed - 11_580 };
  // 11 050 orders authorized; 11 020 captured at confirm, 30 still held, 2 refunded.
  const money: Record<string, number> = {
    'money:authorization:succeeded': 143_650_500,
    'money:authorization:failed': 1_520_883,
    'money:capture:succeeded': 143_260_400,
    'money:refund:succeeded': 25_998,
  };
  s.money = moneyFromCounters((name) => money[name] ?? 0);
  s.rates = { placed: { '1s': 180, '10s': 175.5, '60s': 160.2 }, confirmed: { '1s': 170, '10s': 168, '60s': 150 }, cancelled: { '1s': 4, '10s': 3.2, '60s': 3 } };
  s.latency = { windowMs: 60_000, samples: 2_000, samplesCapped: true, p50Ms: 480, p95Ms: 1_450, p99Ms: 2_900 };
  s.workers = [
    { id: 'worker-101-a1b2c3d4', host: 'shop-1', pid: 101, roles: ['steps', 'relay', 'sweeper'], transport: 'redis', concurrency: 4, startedAt: iso(3_600_000), lastSeenAt: iso(1_000), handled: 30_100, state: 'alive' },
    { id: 'worker-102-e5f6a7b8', host: 'shop-2', pid: 102, roles: ['steps', 'relay', 'sweeper'], transport: 'redis', concurrency: 4, startedAt: iso(3_600_000), lastSeenAt: iso(40_000), handled: 12_000, state: 'gone' },
  ];
  s.stock = {
    lowStockMark: 5,
    outOfStock: { count: 3, capped: false },
    lowStock: { count: 11, capped: false },
    reconciliation: { status: 'ok', detail: 'ok', drifting: 0, checkedAt: iso(20_000), ageMs: 20_000 },
  };
  s.deadLetters = [{ id: 9123, topic: 'pay', orderId: s.orders.recent[5]!.id, attempts: 5, lastError: 'provider timed out', deadAt: iso(300_000) }];
  return s;
}
