// What one target's hub answers a Prometheus scrape with, in one RPC call (worker/hub/scrape.ts
// reads it): the deployment metrics the status page shows (shared/metrics.ts, the same function),
// the few counts that have no place there, the live state of the target, and the step durations
// bucketed where they are stored, so a scrape carries a few numbers per step and not the step log.
import type { Metrics } from '../../shared/api.ts';
import type { StepName } from '../../shared/deployment.ts';

/** Upper bounds (seconds) of the step duration buckets: a reload takes under a second, a restart minutes. */
export const STEP_DURATION_BOUNDS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface StepDurations {
  step: StepName;
  /** Per bucket of STEP_DURATION_BOUNDS, then above the last: not cumulative. */
  counts: number[];
  /** In milliseconds, as the relay reports them (whole ones): a sum without floating-point noise. */
  sumMs: number;
}

export interface TargetScrape {
  target: string;
  /** computeMetrics over every deployment the hub keeps (shared/metrics.ts). */
  metrics: Metrics;
  /** Final outcomes the status page's metrics leave out: they never touched the house. */
  superseded: number;
  cancelled: number;
  /** Rollbacks asked for (API, status page) that ran; automatic ones are metrics.rolledBack. */
  requestedRollbacks: number;
  /** When the newest successful deployment finished (ms), null before any. */
  lastSuccessAt: number | null;
  queued: number;
  relayConnected: boolean;
  /** Files the relay's latest drift report says differ on the host; null before any report. */
  driftFiles: number | null;
  outboxPending: number;
  steps: StepDurations[];
}

/** Adds durations (ms) to per-bucket counts of `bounds` (seconds); the last count is those above every bound. */
export function addDurations(
  into: { counts: number[]; sumMs: number } | null,
  durationsMs: readonly number[],
  bounds: readonly number[] = STEP_DURATION_BOUNDS,
): { counts: number[]; sumMs: number } {
  const counts = into ? [...into.counts] : new Array<number>(bounds.length + 1).fill(0);
  let sumMs = into?.sumMs ?? 0;
  for (const ms of durationsMs) {
    const seconds = ms / 1000;
    sumMs += ms;
    const index = bounds.findIndex((bound) => seconds <= bound);
    counts[index === -1 ? bounds.length : index]! += 1;
  }
  return { counts, sumMs };
}
