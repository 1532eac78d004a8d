// Deployment metrics computed from history. Pure, so the edge, the status page and the tests all
// compute the same numbers from the same rows.
import type { Metrics } from './api.ts';
import type { DeploymentStatus } from './deployment.ts';
import { RAN_STATUSES } from './deployment.ts';

export interface MetricsRow {
  status: DeploymentStatus;
  createdAt: number;
  dispatchedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

const DAY_MS = 86_400_000;

function dayKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * - success and rollback rates are over deployments that ran (succeeded, failed, rolled back);
 *   superseded and cancelled ones never touched the house.
 * - duration runs from when the relay started (or was handed) the job to when it finished.
 * - time to recovery runs from the first failure of an episode (failed or rolled back) to the next
 *   success; an episode that has not recovered yet does not count.
 */
export function computeMetrics(rows: readonly MetricsRow[], now: number, days: number): Metrics {
  const ran = rows
    .filter((r) => RAN_STATUSES.includes(r.status) && r.finishedAt !== null)
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
  const succeeded = ran.filter((r) => r.status === 'succeeded').length;
  const failed = ran.filter((r) => r.status === 'failed').length;
  const rolledBack = ran.filter((r) => r.status === 'rolled_back').length;

  const durations = ran.map((r) => (r.finishedAt ?? 0) - (r.startedAt ?? r.dispatchedAt ?? r.createdAt));
  const averageDurationMs = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null;

  const recoveries: number[] = [];
  let brokenSince: number | null = null;
  for (const r of ran) {
    if (r.status === 'succeeded') {
      if (brokenSince !== null) recoveries.push((r.finishedAt ?? 0) - brokenSince);
      brokenSince = null;
    } else if (brokenSince === null) {
      brokenSince = r.finishedAt;
    }
  }

  const firstDay = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const perDay = Array.from({ length: days }, (_, i) => ({ day: dayKey(firstDay + i * DAY_MS), total: 0, succeeded: 0, failed: 0 }));
  for (const r of ran) {
    const index = Math.floor(((r.finishedAt ?? 0) - firstDay) / DAY_MS);
    const bucket = perDay[index];
    if (!bucket) continue;
    bucket.total += 1;
    if (r.status === 'succeeded') bucket.succeeded += 1;
    else bucket.failed += 1;
  }

  return {
    total: rows.length,
    finished: ran.length,
    succeeded,
    failed,
    rolledBack,
    successRate: ran.length ? succeeded / ran.length : null,
    rollbackRate: ran.length ? rolledBack / ran.length : null,
    averageDurationMs,
    meanTimeToRecoveryMs: recoveries.length ? recoveries.reduce((a, b) => a + b, 0) / recoveries.length : null,
    perDay,
  };
}
