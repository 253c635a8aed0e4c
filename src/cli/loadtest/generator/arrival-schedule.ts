import { InvalidArgumentError } from '@commander-js/extra-typings';
import { parseDurationMs } from '../units.js';

/** One stage of `--stages`: over `durationMs` the arrival rate ramps linearly to `toRate` (ops/s). */
export interface Stage {
  durationMs: number;
  toRate: number;
}

/**
 * When each operation of an open loop is due, as ms after the load began: a constant rate, or
 * stages each ramping linearly from the rate the last one ended at (the first from 0), as k6's
 * ramping-arrival-rate does. Operation i is due when the integral of the rate reaches i.
 */
export interface ArrivalSchedule {
  /** Offset of operation `i`, or undefined when the schedule has ended before it. */
  offsetOf(i: number): number | undefined;
  /** When the schedule ends (Infinity: only --orders ends it). */
  readonly endMs: number;
  /** The arrival rate at `ms` (ops/s). */
  rateAt(ms: number): number;
  /** Operations due before `ms`. */
  dueBefore(ms: number): number;
}

export function constantSchedule(rate: number, durationMs: number | undefined): ArrivalSchedule {
  const endMs = durationMs ?? Infinity;
  return {
    endMs,
    offsetOf: (i) => {
      const at = (i * 1000) / rate;
      return at < endMs ? at : undefined;
    },
    rateAt: () => rate,
    dueBefore: (ms) => Math.ceil((Math.min(ms, endMs) * rate) / 1000 - 1e-9),
  };
}

interface Segment {
  startMs: number;
  durationMs: number;
  fromRate: number;
  toRate: number;
  /** Operations due before the segment begins (fractional). */
  before: number;
  /** Operations due within it (fractional): the area under its rate. */
  area: number;
}

function segmentsOf(stages: readonly Stage[]): Segment[] {
  const out: Segment[] = [];
  let startMs = 0;
  let fromRate = 0;
  let before = 0;
  for (const s of stages) {
    const area = ((fromRate + s.toRate) / 2) * (s.durationMs / 1000);
    out.push({ startMs, durationMs: s.durationMs, fromRate, toRate: s.toRate, before, area });
    startMs += s.durationMs;
    fromRate = s.toRate;
    before += area;
  }
  return out;
}

/** Seconds into a segment at which `n` operations of it have become due (n ≤ its area). */
function timeOfCount(g: Segment, n: number): number {
  if (n <= 0) return 0;
  const seconds = g.durationMs / 1000;
  const a = (g.toRate - g.fromRate) / (2 * seconds);
  const b = g.fromRate;
  // The root of a·t² + b·t = n, in the form that stays exact when a is close to 0.
  const disc = Math.max(0, b * b + 4 * a * n);
  return (2 * n) / (b + Math.sqrt(disc));
}

export function stagedSchedule(stages: readonly Stage[]): ArrivalSchedule {
  const segments = segmentsOf(stages);
  const last = segments[segments.length - 1]!;
  const endMs = last.startMs + last.durationMs;
  const segmentAt = (ms: number) => segments.find((g) => ms < g.startMs + g.durationMs) ?? last;
  return {
    endMs,
    offsetOf: (i) => {
      const g = segments.find((s) => i < s.before + s.area - 1e-9);
      if (!g) return undefined;
      return g.startMs + Math.min(g.durationMs, timeOfCount(g, i - g.before) * 1000);
    },
    rateAt: (ms) => {
      const g = segmentAt(ms);
      const f = Math.min(1, Math.max(0, (ms - g.startMs) / g.durationMs));
      return g.fromRate + (g.toRate - g.fromRate) * f;
    },
    dueBefore: (ms) => {
      const t = Math.min(ms, endMs);
      const g = segmentAt(t);
      const s = Math.min(g.durationMs, Math.max(0, t - g.startMs)) / 1000;
      const area = g.fromRate * s + ((g.toRate - g.fromRate) / (2 * (g.durationMs / 1000))) * s * s;
      return Math.ceil(g.before + area - 1e-9);
    },
  };
}

/** Parses `30s:100,1m:400,30s:0` (a commander parser). */
export function stagesArg(value: string): Stage[] {
  const stages = value.split(',').map((part) => {
    const m = /^\s*([^:]+):\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    const ms = m ? parseDurationMs(m[1]!) : undefined;
    if (!m || ms === undefined || ms <= 0 || /\d\s*$/.test(m[1]!)) throw new InvalidArgumentError(`expected DURATION:RATE stages, e.g. 30s:100,1m:400,30s:0 (not "${part.trim()}")`);
    return { durationMs: ms, toRate: Number(m[2]) };
  });
  if (stages.every((s) => s.toRate === 0)) throw new InvalidArgumentError('every stage has rate 0: nothing would be sent');
  return stages;
}
