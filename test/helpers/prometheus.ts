/** One series of a parsed exposition: its labels and value (histograms: buckets, count, sum). */
export interface Series {
  labels: Record<string, string>;
  value?: number;
  buckets?: Map<number, number>;
  count?: number;
  sum?: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  series: Series[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Values are read by Go's strconv.ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;
// name, optional {label="value",…} with the format's escapes only (\\, \", \n), value, optional timestamp.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*,?)?\})? (\S+)(?: (-?\d+))?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function num(text: string): number {
  const t = text.toLowerCase();
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  return Number(text);
}

/**
 * Parses a Prometheus text exposition (format 0.0.4) strictly: every line must be a HELP, TYPE or
 * sample line of the grammar (or empty); a family is declared once, before its samples, and every sample
 * belongs to the family declared last; no series appears twice; histogram buckets only grow and
 * the +Inf bucket equals the count; counters and only counters end in `_total`. Anything else
 * throws, naming the line. (parse-prometheus-text-format was tried first: it merges the series of a
 * labelled histogram into one, so it cannot check them.)
 */
export function parseExposition(text: string): MetricFamily[] {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families: MetricFamily[] = [];
  const help = new Map<string, string>();
  const seen = new Set<string>();
  let current: MetricFamily | undefined;
  // Histogram series by their labels without `le`.
  let histograms = new Map<string, Series>();
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue; // the format ignores empty lines
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const name = rest.split(' ', 1)[0]!;
      if (!NAME.test(name)) throw new Error(`bad metric name in HELP, ${where}`);
      help.set(name, rest.slice(name.length + 1));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ');
      if (!name || !NAME.test(name) || !type || !TYPES.has(type) || extra !== undefined) throw new Error(`bad TYPE, ${where}`);
      if (families.some((f) => f.name === name)) throw new Error(`family declared twice, ${where}`);
      if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter without _total, ${where}`);
      if (type !== 'counter' && name.endsWith('_total')) throw new Error(`_total on a ${type}, ${where}`);
      current = { name, type, help: help.get(name) ?? '', series: [] };
      families.push(current);
      histograms = new Map();
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unknown comment, ${where}`);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line, ${where}`);
    const [, name, labelText = '', valueText] = m;
    if (!VALUE.test(valueText!)) throw new Error(`bad value, ${where}`);
    if (!current) throw new Error(`sample before any TYPE, ${where}`);
    const f = current;
    const suffixes = f.type === 'histogram' ? ['_bucket', '_sum', '_count'] : f.type === 'summary' ? ['', '_sum', '_count'] : [''];
    const suffix = suffixes.find((x) => name === f.name + x);
    if (suffix === undefined) throw new Error(`sample outside its family ${f.name}, ${where}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (k!.startsWith('__')) throw new Error(`reserved label name, ${where}`);
      if (k! in labels) throw new Error(`label repeated, ${where}`);
      labels[k!] = v!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    }
    const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).sort().join(',')}}`;
    if (seen.has(key)) throw new Error(`series repeated, ${where}`);
    seen.add(key);
    const value = num(valueText!);
    if (f.type !== 'histogram') {
      if (suffix === '') f.series.push({ labels, value });
      continue;
    }
    const { le, ...rest } = labels;
    const seriesKey = JSON.stringify(Object.entries(rest).sort());
    let series = histograms.get(seriesKey);
    if (!series) {
      series = { labels: rest, buckets: new Map() };
      histograms.set(seriesKey, series);
      f.series.push(series);
    }
    if (suffix === '_bucket') {
      if (le === undefined) throw new Error(`bucket without le, ${where}`);
      series.buckets!.set(num(le), value);
    } else if (suffix === '_sum') series.sum = value;
    else series.count = value;
  }

  for (const f of families) {
    if (f.type !== 'histogram') continue;
    for (const s of f.series) {
      const les = [...s.buckets!.keys()].sort((a, b) => a - b);
      let previous = 0;
      for (const le of les) {
        const v = s.buckets!.get(le)!;
        if (v < previous) throw new Error(`${f.name}${JSON.stringify(s.labels)}: bucket le=${le} is below the one before it`);
        previous = v;
      }
      if (s.count === undefined || s.sum === undefined) throw new Error(`${f.name}${JSON.stringify(s.labels)}: no _count or _sum`);
      if (les.at(-1) !== Infinity || s.buckets!.get(Infinity) !== s.count) throw new Error(`${f.name}${JSON.stringify(s.labels)}: +Inf bucket is not the count`);
    }
  }
  return families;
}

/** The family named `name`; throws when there is none. */
export function family(families: readonly MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no metric family ${name} (have: ${families.map((x) => x.name).join(', ')})`);
  return f;
}

/** The sum of the values (histograms: counts) of the series of `name` whose labels include `labels`; 0 when none does. */
export function sampleValue(families: readonly MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const matches = family(families, name).series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matches.reduce((sum, s) => sum + (s.value ?? s.count ?? 0), 0);
}
