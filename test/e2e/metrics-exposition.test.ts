// The exposition writer (worker/metrics/exposition.ts) read back by Prometheus' own parsers (the
// Python client's OpenMetrics and 0.0.4 parsers, test/support/exposition-parser.ts): in Node, as
// the parser is a Python program. Whatever text a label value holds, the parse gives it back as it
// was; histograms are what the OpenMetrics parser accepts (cumulative, +Inf, _count equals it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countAndSumFamily,
  counterFamily,
  escapeLabelValue,
  gaugeFamily,
  histogramFamily,
  renderExposition,
  type ExpositionFormat,
  type MetricFamily,
} from '../../worker/metrics/exposition.ts';
import { metricFamilies } from '../../worker/metrics/families.ts';
import { addDurations, type TargetScrape } from '../../worker/metrics/target-scrape.ts';
import { parseExposition, sampleValue } from '../support/exposition-parser.ts';

const FORMATS: ExpositionFormat[] = ['openmetrics', 'prometheus'];

/** Any code points (lone surrogates too), and strings made of what the format itself uses. */
const GARBAGE = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('\\', '"', '\n', '\r', '{', '}', '=', ',', ' ', '#', '\\n', 'le', 'é', '\u2028', '\u0000'), maxLength: 20 }),
);

/** What UTF-8 can carry of a JS string: a lone surrogate is not text, and is written as U+FFFD. */
const asUtf8 = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s));

function scrapeOf(target: string, over: Partial<TargetScrape> = {}): TargetScrape {
  return {
    target,
    metrics: {
      total: 4, finished: 3, succeeded: 2, failed: 0, rolledBack: 1, successRate: 2 / 3, rollbackRate: 1 / 3,
      averageDurationMs: 12_000, meanTimeToRecoveryMs: 90_000, perDay: [],
    },
    superseded: 1,
    cancelled: 0,
    requestedRollbacks: 0,
    lastSuccessAt: 1_796_000_000_123,
    queued: 0,
    relayConnected: true,
    driftFiles: 2,
    outboxPending: 0,
    steps: [{ step: 'apply', ...addDurations(null, [40, 1500, 700_000]) }],
    ...over,
  };
}

describe('Prometheus\' parsers read what the writer writes', () => {
  it('every family of a scrape, in both formats, with the values a user would graph', async () => {
    const families = metricFamilies([scrapeOf('home'), scrapeOf('cabin', { relayConnected: false, driftFiles: null, lastSuccessAt: null })], { enqueued: 3, rejected: 1 });
    for (const format of FORMATS) {
      const parsed = await parseExposition(renderExposition(families, format), format);
      const names = parsed.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['lanyard_deployments', 'lanyard_step_duration_seconds', 'lanyard_relay_connected', 'lanyard_webhook_deliveries_last_day']));
      expect(sampleValue(parsed, 'lanyard_deployments_total', { target: 'home', outcome: 'succeeded' })).toBe(2);
      expect(sampleValue(parsed, 'lanyard_rollbacks_total', { target: 'home', kind: 'automatic' })).toBe(1);
      expect(sampleValue(parsed, 'lanyard_relay_connected', { target: 'cabin' })).toBe(0);
      expect(sampleValue(parsed, 'lanyard_drift_files', { target: 'cabin' })).toBeUndefined();
      expect(sampleValue(parsed, 'lanyard_last_success_timestamp_seconds', { target: 'home' })).toBeCloseTo(1_796_000_000.123, 3);
      expect(sampleValue(parsed, 'lanyard_mean_time_to_recovery_seconds', { target: 'home' })).toBe(90);
      expect(sampleValue(parsed, 'lanyard_deployment_duration_seconds_sum', { target: 'home' })).toBeCloseTo(36, 6);
      // 40 ms, 1.5 s and 700 s: cumulative buckets, the last one above every bound.
      expect(sampleValue(parsed, 'lanyard_step_duration_seconds_bucket', { target: 'home', step: 'apply', le: '0.1' })).toBe(1);
      expect(sampleValue(parsed, 'lanyard_step_duration_seconds_bucket', { target: 'home', step: 'apply', le: '2.5' })).toBe(2);
      expect(sampleValue(parsed, 'lanyard_step_duration_seconds_bucket', { target: 'home', step: 'apply', le: '600.0' })).toBe(2);
      expect(sampleValue(parsed, 'lanyard_step_duration_seconds_bucket', { target: 'home', step: 'apply', le: '+Inf' })).toBe(3);
      expect(sampleValue(parsed, 'lanyard_step_duration_seconds_count', { target: 'home', step: 'apply' })).toBe(3);
      expect(sampleValue(parsed, 'lanyard_webhook_deliveries_last_day', { verdict: 'rejected' })).toBe(1);
    }
    const openMetrics = await parseExposition(renderExposition(families, 'openmetrics'), 'openmetrics');
    expect(openMetrics.find((f) => f.name === 'lanyard_step_duration_seconds')).toMatchObject({ type: 'histogram', unit: 'seconds' });
    expect(openMetrics.find((f) => f.name === 'lanyard_deployments')).toMatchObject({ type: 'counter' });
  });

  it('label values of any text come back as they were, in both formats', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(GARBAGE, { minLength: 1, maxLength: 120 }), async (values) => {
        const points = values.map((v, i) => ({ labels: { target: v, n: String(i) }, value: i }));
        const families: MetricFamily[] = [gaugeFamily('lanyard_garbage', 'Label values "of" any\\ text\nat all.', points)];
        for (const format of FORMATS) {
          const [family] = await parseExposition(renderExposition(families, format), format);
          expect(family!.samples.map((s) => s.labels.target)).toEqual(values.map(asUtf8));
          expect(family!.help).toBe('Label values "of" any\\ text\nat all.');
        }
      }),
      // Each run starts the Python parser twice (some 0.5 s on a busy machine): few runs, many values each.
      { numRuns: 6 },
    );
  });

  it('histograms with any observations are accepted and keep their counts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 50 }), async (durationsMs) => {
        const { counts, sumMs } = addDurations(null, durationsMs);
        const family = histogramFamily('lanyard_h_seconds', 'h', [{ labels: { step: 'apply' }, bounds: [0.5, 1, 60], counts: addDurations(null, durationsMs, [0.5, 1, 60]).counts, sum: sumMs / 1000 }], 'seconds');
        expect(counts.reduce((a, b) => a + b, 0)).toBe(durationsMs.length);
        const [parsed] = await parseExposition(renderExposition([family], 'openmetrics'), 'openmetrics');
        expect(sampleValue([parsed!], 'lanyard_h_seconds_count', { step: 'apply' })).toBe(durationsMs.length);
        expect(sampleValue([parsed!], 'lanyard_h_seconds_bucket', { step: 'apply', le: '1.0' })).toBe(durationsMs.filter((ms) => ms <= 1000).length);
      }),
      { numRuns: 5 },
    );
  });
});

describe('the writer', () => {
  it('escapes backslash, quote and line feed, and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd\re\t')).toBe('a\\\\b\\"c\\nd\re\t');
  });

  it('refuses names the formats do not allow, rather than write a text no parser reads', () => {
    expect(() => renderExposition([gaugeFamily('lanyard-bad', 'x', [])], 'openmetrics')).toThrow(/not a valid metric name/);
    expect(() => renderExposition([gaugeFamily('lanyard_ok', 'x', [{ labels: { __name: 'x' }, value: 1 }])], 'openmetrics')).toThrow(/not a valid label name/);
    expect(() => renderExposition([counterFamily('lanyard_things_total', 'x', [])], 'openmetrics')).toThrow(/without _total/);
    expect(() => renderExposition([countAndSumFamily('lanyard_wait', 'x', [], 'seconds')], 'openmetrics')).toThrow(/end with its unit/);
  });
});
