// A small writer of the text formats Prometheus scrapes: OpenMetrics 1.0 (what /metrics answers by
// default) and Prometheus' older text format 0.0.4 (for a client that accepts only text/plain).
//
// Why not a library: prom-client, and @hono/prometheus which wraps it, need Node's cluster, http
// and fs modules, and keep counters in the memory of one process; a Worker runs in many isolates,
// each with its own memory, so such counters would be wrong. Lanyard's numbers live in storage (each
// target's hub, the D1 ledger) and are read at every scrape: only the writing of the format is
// needed, and that is this file (docs/metrics.md).
//
// What the formats ask, and this writer keeps:
// - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and never
//   start with `__` (reserved); a name breaking them is a programming error and throws;
// - label values may hold any text; backslash, double quote and line feed are escaped as \\, \"
//   and \n; a lone UTF-16 surrogate (not text) becomes U+FFFD, as UTF-8 has no way to write it;
// - a counter's samples end in `_total`; a histogram's are `_bucket{le}` (cumulative, ending with
//   `le="+Inf"`), `_count` and `_sum`; a unit is the name's last part (OpenMetrics writes `# UNIT`);
// - OpenMetrics ends with `# EOF`; in 0.0.4 a counter's TYPE line names it with its `_total`.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
export type ExpositionFormat = 'openmetrics' | 'prometheus';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
};

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** Added to the family's name: `_total`, `_bucket`, `_count`, `_sum`, or nothing. */
  suffix: '' | '_total' | '_bucket' | '_count' | '_sum';
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  /** OpenMetrics unit (e.g. `seconds`); the name must end with `_<unit>`. */
  unit?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function checkFamily(f: MetricFamily): void {
  if (!METRIC_NAME.test(f.name)) throw new Error(`${f.name} is not a valid metric name`);
  if (f.type === 'counter' && f.name.endsWith('_total')) throw new Error(`${f.name}: name a counter without _total; its samples get it`);
  if (f.unit !== undefined && (!LABEL_NAME.test(f.unit) || !f.name.endsWith(`_${f.unit}`))) throw new Error(`${f.name} must end with its unit _${f.unit}`);
  for (const s of f.samples) {
    for (const name of Object.keys(s.labels)) {
      if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${f.name}: ${name} is not a valid label name`);
    }
  }
}

/** A label value as both formats write it between double quotes. */
export function escapeLabelValue(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: OpenMetrics escapes as a label value does; 0.0.4 escapes backslash and line feed only. */
function escapeHelp(text: string, format: ExpositionFormat): string {
  const clean = text.replace(LONE_SURROGATE, '\uFFFD').replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? clean.replace(/"/g, '\\"') : clean;
}

/** A sample's value: integers as they are, other numbers as JavaScript writes them (both formats read 1.5, 1e-7, 1e+21). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A bucket bound in its canonical form: `+Inf`, and floats with a fractional part (`1.0`, `0.25`). */
export function formatBound(bound: number): string {
  if (bound === Infinity) return '+Inf';
  const text = String(bound);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** The families in the format asked for, one line each, ending with a line feed. */
export function renderExposition(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const lines: string[] = [];
  for (const f of families) {
    checkFamily(f);
    const typeName = format === 'prometheus' && f.type === 'counter' ? `${f.name}_total` : f.name;
    lines.push(`# HELP ${typeName} ${escapeHelp(f.help, format)}`);
    lines.push(`# TYPE ${typeName} ${f.type}`);
    if (format === 'openmetrics' && f.unit !== undefined) lines.push(`# UNIT ${f.name} ${f.unit}`);
    for (const s of f.samples) lines.push(`${f.name}${s.suffix}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

// ---- building samples ----------------------------------------------------------------------------

/** One value of a counter or gauge with its labels. */
export interface Point {
  labels: Labels;
  value: number;
}

export function counterFamily(name: string, help: string, points: readonly Point[], unit?: string): MetricFamily {
  return { name, type: 'counter', help, ...(unit ? { unit } : {}), samples: points.map((p) => ({ suffix: '_total', labels: p.labels, value: p.value })) };
}

export function gaugeFamily(name: string, help: string, points: readonly Point[], unit?: string): MetricFamily {
  return { name, type: 'gauge', help, ...(unit ? { unit } : {}), samples: points.map((p) => ({ suffix: '', labels: p.labels, value: p.value })) };
}

/** One series of a histogram: observations counted per upper bound (not cumulative), with their sum. */
export interface HistogramSeries {
  labels: Labels;
  /** Ascending, finite; `+Inf` is added. */
  bounds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; counts[bounds.length]: above the last bound. */
  counts: readonly number[];
  sum: number;
}

export function histogramFamily(name: string, help: string, series: readonly HistogramSeries[], unit?: string): MetricFamily {
  const samples: Sample[] = [];
  for (const s of series) {
    if (s.counts.length !== s.bounds.length + 1) throw new Error(`${name}: ${s.bounds.length} bounds need ${s.bounds.length + 1} counts`);
    let cumulative = 0;
    [...s.bounds, Infinity].forEach((bound, i) => {
      cumulative += s.counts[i]!;
      samples.push({ suffix: '_bucket', labels: { ...s.labels, le: formatBound(bound) }, value: cumulative });
    });
    samples.push({ suffix: '_count', labels: s.labels, value: cumulative });
    samples.push({ suffix: '_sum', labels: s.labels, value: s.sum });
  }
  return { name, type: 'histogram', help, ...(unit ? { unit } : {}), samples };
}

/** A summary without quantiles: how many, and their sum (an average over any range in PromQL). */
export function countAndSumFamily(name: string, help: string, series: readonly { labels: Labels; count: number; sum: number }[], unit?: string): MetricFamily {
  const samples: Sample[] = series.flatMap((s) => [
    { suffix: '_count' as const, labels: s.labels, value: s.count },
    { suffix: '_sum' as const, labels: s.labels, value: s.sum },
  ]);
  return { name, type: 'summary', help, ...(unit ? { unit } : {}), samples };
}
