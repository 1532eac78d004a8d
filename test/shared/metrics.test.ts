// Metrics from a known history: every number checked against a hand computation.
import { describe, expect, it } from 'vitest';
import { computeMetrics, type MetricsRow } from '../../shared/metrics.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const MIN = 60_000;

function row(status: MetricsRow['status'], finishedAt: number | null, minutes = 2): MetricsRow {
  return { status, createdAt: (finishedAt ?? NOW) - minutes * MIN - 1000, dispatchedAt: null, startedAt: finishedAt === null ? null : finishedAt - minutes * MIN, finishedAt };
}

describe('deployment metrics', () => {
  const history: MetricsRow[] = [
    row('succeeded', NOW - 3 * DAY, 2),
    row('failed', NOW - 2 * DAY, 4), // outage starts
    row('rolled_back', NOW - 2 * DAY + 30 * MIN, 6), // still broken
    row('succeeded', NOW - 2 * DAY + 90 * MIN, 2), // recovered 90 minutes after it broke
    row('superseded', NOW - DAY),
    row('cancelled', NOW - DAY),
    row('queued', null),
    row('rolled_back', NOW - 60 * MIN, 6), // second outage, 50 minutes
    row('succeeded', NOW - 10 * MIN, 2),
  ];

  it('counts every deployment but rates only those that ran', () => {
    const m = computeMetrics(history, NOW, 7);
    expect(m.total).toBe(9);
    expect(m.finished).toBe(6);
    expect(m.succeeded).toBe(3);
    expect(m.failed).toBe(1);
    expect(m.rolledBack).toBe(2);
    expect(m.successRate).toBeCloseTo(3 / 6);
    expect(m.rollbackRate).toBeCloseTo(2 / 6);
  });

  it('averages durations from start to finish', () => {
    expect(computeMetrics(history, NOW, 7).averageDurationMs).toBe(((2 + 4 + 6 + 2 + 6 + 2) / 6) * MIN);
  });

  it('measures recovery from the first failure of an outage to the next success', () => {
    expect(computeMetrics(history, NOW, 7).meanTimeToRecoveryMs).toBe(((90 + 50) / 2) * MIN);
  });

  it('buckets deployments per UTC day, oldest first, ending today', () => {
    const m = computeMetrics(history, NOW, 7);
    expect(m.perDay.map((d) => d.day)).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']);
    expect(m.perDay[3]).toEqual({ day: '2026-11-19', total: 1, succeeded: 1, failed: 0 });
    expect(m.perDay[4]).toEqual({ day: '2026-11-20', total: 3, succeeded: 1, failed: 2 });
    expect(m.perDay[6]).toEqual({ day: '2026-11-22', total: 2, succeeded: 1, failed: 1 });
  });

  it('has no rates and no recovery time for an empty history', () => {
    const m = computeMetrics([], NOW, 30);
    expect(m).toMatchObject({ total: 0, successRate: null, rollbackRate: null, averageDurationMs: null, meanTimeToRecoveryMs: null });
    expect(m.perDay).toHaveLength(30);
  });
});
