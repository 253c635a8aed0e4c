import type { CappedCount } from '../../core/stats/snapshot-types.js';

/** "1.2k", "34", "≥ 10000" for a capped figure: short enough for a column. */
export function count(n: number, capped = false): string {
  const text = n >= 100_000 ? `${Math.round(n / 1000)}k` : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n);
  return capped ? `≥${text}` : text;
}

export function capped(c: CappedCount | null): string {
  return c === null ? '–' : count(c.count, c.capped);
}

/** An age or duration for a column: "850ms", "12s", "4m", "3h", "2d"; "–" for none. */
export function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}

/** A latency: "850ms", "1.45s", "12.3s", "2m"; "–" for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return age(ms);
}

export function cents(n: number): string {
  return `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The last `width` values as a sparkline scaled to their own maximum (all blank when all zero). */
export function sparkline(values: readonly number[], width: number): string {
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  const line = tail.map((v) => (max === 0 ? BLOCKS[0] : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
  return line.padStart(width, ' ');
}

export interface BarPart {
  value: number;
  char: string;
}

/**
 * A stacked bar of `width` cells whose parts are proportional to their values against `scale`
 * (the largest total of the bars drawn together); a non-zero part gets one cell at least.
 */
export function bar(parts: readonly BarPart[], scale: number, width: number): string[] {
  if (scale <= 0 || width <= 0) return parts.map(() => '');
  const cells = parts.map((p) => (p.value <= 0 ? 0 : Math.max(1, Math.round((p.value / scale) * width))));
  let over = cells.reduce((a, b) => a + b, 0) - width;
  for (let i = cells.length - 1; over > 0 && i >= 0; i--) {
    const cut = Math.min(over, Math.max(0, cells[i]! - 1));
    cells[i]! -= cut;
    over -= cut;
  }
  return parts.map((p, i) => p.char.repeat(cells[i]!));
}

/** Pads or cuts `text` to exactly `width` characters. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return width === 1 ? '…' : `${chars.slice(0, width - 1).join('')}…`;
  return align === 'left' ? text.padEnd(width - chars.length + text.length) : text.padStart(width - chars.length + text.length);
}
