import type { ChaosEvent } from '../deployment/chaos-events.js';
import type { RequestRecord } from '../generator/records.js';
import type { MoneyInput } from './money-reconciles.js';
import { FINAL_STATUSES, expectedNotification, type Snapshot } from './snapshot.js';

/** One broken promise found by a check. `severity` orders them to find the worst. */
export interface Violation {
  /** When the request it concerns ended, ms since the epoch (0 when not tied to one). */
  at: number;
  severity: number;
  message: string;
  ids: string[];
}

export interface CheckResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** One line: what was checked and found. */
  detail: string;
  count: number;
  first?: Violation;
  worst?: Violation;
  last?: Violation;
  /** Up to 5 ids from the violations, for looking them up. */
  samples: string[];
}

/** What the checks look at: every request of the run and the target's state once settled. */
export interface CheckInput {
  records: readonly RequestRecord[];
  snapshot: Snapshot;
  initialStock: Readonly<Record<string, number>>;
  /** When the stock was set, ms since the epoch: orders created since are the run's. */
  stockSetAt: number;
  chaos: readonly ChaosEvent[];
  settled: boolean;
  settleTimeoutMs: number;
  /** The doctor's failures, or why it could not run. */
  doctor: { failures: { name: string; detail: string }[]; notes: string[] } | { skipped: string };
  /** The run's orders against the payment ledger, or why they could not be read. */
  money: MoneyInput;
}

// A 503 or a refused connection this long after a chaos action recovered still counts as its effect.
const CHAOS_GRACE_MS = 5_000;

export const CHECK_NAMES = [
  'accepted-orders-final',
  'one-order-per-key',
  'no-oversell',
  'stock-matches-ledger',
  'charged-once',
  'one-notification-per-event',
  'no-5xx',
  'doctor',
  'stock-reads-consistent',
  'money-reconciles',
] as const;

function result(name: string, violations: Violation[], okDetail: string, failDetail: (n: number) => string): CheckResult {
  if (violations.length === 0) return { name, status: 'pass', detail: okDetail, count: 0, samples: [] };
  const byTime = [...violations].sort((a, b) => a.at - b.at);
  const worst = violations.reduce((w, v) => (v.severity > w.severity ? v : w));
  const samples = [...new Set(violations.flatMap((v) => v.ids))].slice(0, 5);
  return { name, status: 'fail', detail: failDetail(violations.length), count: violations.length, first: byTime[0]!, worst, last: byTime[byTime.length - 1]!, samples };
}

/** The orders that got 201, with the time of their first acknowledgement. */
export function acceptedOrders(records: readonly RequestRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    if ((r.op === 'order' || r.op === 'retry') && r.status === 201 && r.orderId && !out.has(r.orderId)) out.set(r.orderId, r.end);
  }
  return out;
}

function acceptedFinal(i: CheckInput, accepted: Map<string, number>): CheckResult {
  const v: Violation[] = [];
  const now = Date.now();
  for (const [id, at] of accepted) {
    const order = i.snapshot.orders.get(id);
    if (!order) v.push({ at, severity: now - at + 1e12, message: `order ${id} got 201 but the target does not have it`, ids: [id] });
    else if (!FINAL_STATUSES.has(order.status)) v.push({ at, severity: now - at, message: `order ${id} is still ${order.status} after settling`, ids: [id] });
  }
  const settleNote = i.settled ? '' : ` (settle timed out after ${i.settleTimeoutMs} ms)`;
  return result('accepted-orders-final', v, `all ${accepted.size} accepted orders exist and are final`, (n) => `${n} of ${accepted.size} accepted orders lost or not final${settleNote}`);
}

function onePerKey(i: CheckInput): CheckResult {
  const byKey = new Map<string, { ids: Set<string>; at: number }>();
  for (const r of i.records) {
    if (!r.key || r.status !== 201 || !r.orderId) continue;
    const entry = byKey.get(r.key) ?? { ids: new Set<string>(), at: r.end };
    entry.ids.add(r.orderId);
    entry.at = Math.max(entry.at, r.end);
    byKey.set(r.key, entry);
  }
  const v: Violation[] = [];
  for (const [key, { ids, at }] of byKey) {
    if (ids.size > 1) v.push({ at, severity: ids.size, message: `Idempotency-Key ${key} answered ${ids.size} different orders: ${[...ids].join(', ')}`, ids: [...ids] });
  }
  return result('one-order-per-key', v, `${byKey.size} keys, each answered with one order`, (n) => `${n} keys answered with more than one order`);
}

function noOversell(i: CheckInput): CheckResult {
  // Every order created since the stock was set counts, acknowledged or not: an order whose 201 was
  // cut off by a killed server was still committed, and the pipeline rightly sells it.
  const sold = new Map<string, { units: number; ids: string[] }>();
  for (const o of i.snapshot.orders.values()) {
    if (!['confirmed', 'shipped', 'delivered'].includes(o.status) || Date.parse(o.createdAt) < i.stockSetAt) continue;
    for (const item of o.items) {
      const s = sold.get(item.sku) ?? { units: 0, ids: [] };
      s.units += item.quantity;
      s.ids.push(o.id);
      sold.set(item.sku, s);
    }
  }
  const v: Violation[] = [];
  for (const p of i.snapshot.products) {
    const initial = i.initialStock[p.sku];
    const s = sold.get(p.sku) ?? { units: 0, ids: [] };
    const now = `now on hand ${p.onHand}, reserved ${p.reserved}`;
    // One violation per product, the most telling of what is wrong with it.
    if (initial !== undefined && s.units > initial) {
      v.push({ at: 0, severity: s.units - initial, message: `${p.sku}: ${s.units} units sold of ${initial} on hand (oversold by ${s.units - initial}); ${now}`, ids: [p.sku, ...s.ids.slice(-3)] });
    } else if (p.onHand < 0 || p.reserved > p.onHand || p.available < 0) {
      v.push({ at: 0, severity: Math.max(-p.onHand, p.reserved - p.onHand, -p.available), message: `${p.sku}: impossible stock, ${now}, available ${p.available}`, ids: [p.sku] });
    } else if (initial !== undefined && p.onHand !== initial - s.units) {
      v.push({ at: 0, severity: Math.abs(p.onHand - (initial - s.units)), message: `${p.sku}: ${now}, but ${initial} at the start less ${s.units} sold is ${initial - s.units}`, ids: [p.sku] });
    }
  }
  return result('no-oversell', v, `${sold.size} products sold within their stock; on hand = start − sold for every product`, (n) => `${n} products oversold or with stock that does not add up`);
}

function ledger(i: CheckInput): CheckResult {
  const v = i.snapshot.drift.map((d) => ({
    at: 0,
    severity: Math.abs(d.onHand - d.ledgerOnHand) + Math.abs(d.reserved - d.ledgerReserved),
    message: `${d.sku}: on hand ${d.onHand} vs ledger ${d.ledgerOnHand}, reserved ${d.reserved} vs ledger ${d.ledgerReserved}`,
    ids: [d.sku],
  }));
  return result('stock-matches-ledger', v, `stock equals the ledger for all ${i.snapshot.products.length} products`, (n) => `${n} products differ from their ledger`);
}

function chargedOnce(i: CheckInput, accepted: Map<string, number>): CheckResult {
  const byOrder = new Map<string, { status: string; amountCents: number }[]>();
  for (const p of i.snapshot.payments) byOrder.set(p.orderId, [...(byOrder.get(p.orderId) ?? []), p]);
  const v: Violation[] = [];
  let confirmed = 0;
  for (const [id, at] of accepted) {
    const o = i.snapshot.orders.get(id);
    if (!o) continue;
    const payments = byOrder.get(id) ?? [];
    const captured = payments.filter((p) => p.status === 'captured');
    if (['confirmed', 'shipped', 'delivered'].includes(o.status)) {
      confirmed += 1;
      if (captured.length !== 1) v.push({ at, severity: Math.abs(captured.length - 1) + 1, message: `order ${id} is ${o.status} with ${captured.length} captured payments`, ids: [id] });
      else if (captured[0]!.amountCents !== o.totalCents) v.push({ at, severity: 1, message: `order ${id} was charged ${captured[0]!.amountCents} for a total of ${o.totalCents}`, ids: [id] });
    } else if (captured.length > 0) {
      v.push({ at, severity: captured.length + 1, message: `order ${id} is ${o.status}${o.cancelReason ? ` (${o.cancelReason})` : ''} but has ${captured.length} captured payment(s)`, ids: [id] });
    }
    if (payments.length > 1) v.push({ at, severity: payments.length, message: `order ${id} has ${payments.length} payments`, ids: [id] });
  }
  return result('charged-once', v, `${confirmed} confirmed orders charged exactly once for their total; no other order charged`, (n) => `${n} orders charged wrongly`);
}

function notifications(i: CheckInput, accepted: Map<string, number>): CheckResult {
  const counts = new Map<string, number>();
  for (const n of i.snapshot.notifications) counts.set(`${n.orderId} ${n.kind}`, (counts.get(`${n.orderId} ${n.kind}`) ?? 0) + 1);
  const v: Violation[] = [];
  for (const [id, at] of accepted) {
    const o = i.snapshot.orders.get(id);
    if (!o) continue;
    const want = expectedNotification(o.status);
    for (const kind of ['order_confirmed', 'order_cancelled']) {
      const n = counts.get(`${id} ${kind}`) ?? 0;
      const expected = kind === want ? 1 : 0;
      // An order confirmed and later cancelled rightly has both.
      if (n > 1 || (n < expected) || (n > expected && !(o.status === 'cancelled' && kind === 'order_confirmed'))) {
        v.push({ at, severity: Math.abs(n - expected), message: `order ${id} (${o.status}) has ${n} ${kind} notifications, expected ${expected}`, ids: [id] });
      }
    }
  }
  return result('one-notification-per-event', v, `one notification per order and event for ${accepted.size} orders`, (n) => `${n} missing or repeated notifications`);
}

/** True when the request was out while a chaos action was under way (a request cut off by a kill started before it). */
function duringChaos(r: RequestRecord, chaos: readonly ChaosEvent[]): boolean {
  return chaos.some((c) => r.end >= c.at && r.start <= (c.recoveredAt ?? Infinity) + CHAOS_GRACE_MS);
}

function no5xx(i: CheckInput): CheckResult {
  const v: Violation[] = [];
  let allowed = 0;
  for (const r of i.records) {
    const unavailable = r.status === 503 || r.status === 0;
    if (r.status < 500 && r.status !== 0) continue;
    if (unavailable && duringChaos(r, i.chaos)) {
      allowed += 1;
      continue;
    }
    const what = r.status === 0 ? `no answer (${r.code ?? 'network error'})` : `${r.status}${r.code ? ` ${r.code}` : ''}`;
    v.push({ at: r.end, severity: r.end - r.start, message: `${r.op} #${r.index} answered ${what}${r.status === 503 || r.status === 0 ? ' outside any chaos' : ''}`, ids: r.orderId ? [r.orderId] : r.key ? [r.key] : [] });
  }
  const extra = allowed > 0 ? ` (${allowed} 503s or refused connections during chaos, allowed)` : '';
  return result('no-5xx', v, `no 5xx answers${extra}`, (n) => `${n} requests answered 5xx or not at all${extra}`);
}

function doctor(i: CheckInput): CheckResult {
  if ('skipped' in i.doctor) return { name: 'doctor', status: 'skip', detail: i.doctor.skipped, count: 0, samples: [] };
  const v = i.doctor.failures.map((f) => ({ at: 0, severity: 1, message: `${f.name}: ${f.detail}`, ids: [f.name] }));
  const notes = i.doctor.notes.length > 0 ? ` (not counted: ${i.doctor.notes.join('; ')})` : '';
  return result('doctor', v, `doctor passes${notes}`, (n) => `doctor: ${n} checks failed${notes}`);
}

function stockReads(i: CheckInput): CheckResult {
  const v: Violation[] = [];
  let reads = 0;
  for (const r of i.records) {
    if (r.op !== 'product' && r.op !== 'products') continue;
    if (r.status === 200) reads += 1;
    for (const s of r.badStock ?? []) {
      v.push({ at: r.end, severity: Math.max(-s.available, s.reserved - s.onHand), message: `${s.sku} read with on hand ${s.onHand}, reserved ${s.reserved}, available ${s.available}`, ids: [s.sku] });
    }
  }
  return result('stock-reads-consistent', v, `${reads} stock reads, none negative or reserved above on hand`, (n) => `${n} impossible stock readings`);
}

function moneyReconciles(i: CheckInput): CheckResult {
  const m = i.money;
  if ('skipped' in m) return { name: 'money-reconciles', status: 'skip', detail: m.skipped, count: 0, samples: [] };
  const v: Violation[] = m.mismatches.map((x) => ({ at: 0, severity: 2, message: `order ${x.reference} (${x.orderId}): ${x.problem}`, ids: [x.orderId] }));
  for (const id of m.settling) v.push({ at: 0, severity: 1, message: `order ${id} still has money moving after settling (a ledger row pending or a refund queued)`, ids: [id] });
  return result('money-reconciles', v, `the money of all ${m.checked} orders of the run adds up (refunded ≤ captured ≤ authorized; confirmed captured its total; cancelled refunded and voided the rest)`, (n) => `${n} orders of the run whose money does not add up or never settled`);
}

/** Runs every check; each result says ✓/✗ with its evidence. */
export function runChecks(i: CheckInput): CheckResult[] {
  const accepted = acceptedOrders(i.records);
  return [
    acceptedFinal(i, accepted),
    onePerKey(i),
    noOversell(i),
    ledger(i),
    chargedOnce(i, accepted),
    notifications(i, accepted),
    no5xx(i),
    doctor(i),
    stockReads(i),
    moneyReconciles(i),
  ];
}
