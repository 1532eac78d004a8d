// Every family GET /metrics shows, built from what each target's hub and the delivery ledger
// answered. docs/metrics.md explains each one; keep the two together.
import { STEP_NAMES } from '../../shared/deployment.ts';
import {
  countAndSumFamily,
  counterFamily,
  gaugeFamily,
  histogramFamily,
  type HistogramSeries,
  type MetricFamily,
  type Point,
} from './exposition.ts';
import { STEP_DURATION_BOUNDS, type TargetScrape } from './target-scrape.ts';

/** Deliveries of the last 24 hours per verdict (worker/ledger/delivery-counts.ts). */
export type VerdictCounts = Readonly<Record<string, number>>;

const seconds = (ms: number) => ms / 1000;

function perTarget(scrapes: readonly TargetScrape[], value: (s: TargetScrape) => number | null): Point[] {
  return scrapes.flatMap((s) => {
    const v = value(s);
    return v === null ? [] : [{ labels: { target: s.target }, value: v }];
  });
}

export function metricFamilies(scrapes: readonly TargetScrape[], deliveries: VerdictCounts): MetricFamily[] {
  const outcomes = scrapes.flatMap((s) => {
    const byOutcome = { succeeded: s.metrics.succeeded, failed: s.metrics.failed, rolled_back: s.metrics.rolledBack, superseded: s.superseded, cancelled: s.cancelled };
    return Object.entries(byOutcome).map(([outcome, value]) => ({ labels: { target: s.target, outcome }, value }));
  });
  const rollbacks = scrapes.flatMap((s) => [
    { labels: { target: s.target, kind: 'automatic' }, value: s.metrics.rolledBack },
    { labels: { target: s.target, kind: 'requested' }, value: s.requestedRollbacks },
  ]);
  const stepOrder = (step: string) => STEP_NAMES.indexOf(step as (typeof STEP_NAMES)[number]);
  const steps: HistogramSeries[] = scrapes.flatMap((s) =>
    [...s.steps]
      .sort((a, b) => stepOrder(a.step) - stepOrder(b.step))
      .map((d) => ({ labels: { target: s.target, step: d.step }, bounds: STEP_DURATION_BOUNDS, counts: d.counts, sum: seconds(d.sumMs) })),
  );
  const durations = scrapes.map((s) => ({
    labels: { target: s.target },
    count: s.metrics.finished,
    // The average times the count is the total again; rounded to the millisecond the timings have.
    sum: s.metrics.averageDurationMs === null ? 0 : seconds(Math.round(s.metrics.averageDurationMs * s.metrics.finished)),
  }));

  return [
    counterFamily('lanyard_deployments', 'Deployments that reached a final outcome: succeeded, failed, rolled_back (failed and put back), superseded or cancelled (never ran).', outcomes),
    counterFamily('lanyard_rollbacks', 'Rollbacks that ran: automatic (a deploy that failed after writing, put back) or requested (asked for through the API or the status page).', rollbacks),
    histogramFamily('lanyard_step_duration_seconds', 'How long each pipeline step took, from the step timings the relay reports.', steps, 'seconds'),
    countAndSumFamily('lanyard_deployment_duration_seconds', 'Deployments that ran, and their total duration from the relay starting to finishing.', durations, 'seconds'),
    gaugeFamily(
      'lanyard_mean_time_to_recovery_seconds',
      'Mean time from the first failure of an episode to the next success; absent until a target recovered once.',
      perTarget(scrapes, (s) => (s.metrics.meanTimeToRecoveryMs === null ? null : seconds(s.metrics.meanTimeToRecoveryMs))),
      'seconds',
    ),
    gaugeFamily(
      'lanyard_last_success_timestamp_seconds',
      'When the newest successful deployment finished (Unix time); time() minus it is the time since. Absent before any success.',
      perTarget(scrapes, (s) => (s.lastSuccessAt === null ? null : seconds(s.lastSuccessAt))),
      'seconds',
    ),
    gaugeFamily('lanyard_queue_depth', 'Deployments queued, waiting for the relay.', perTarget(scrapes, (s) => s.queued)),
    gaugeFamily('lanyard_relay_connected', '1 while the target\'s relay is connected to the edge, else 0.', perTarget(scrapes, (s) => (s.relayConnected ? 1 : 0))),
    gaugeFamily('lanyard_drift_files', 'Deployed files the relay\'s latest drift report says differ on the host; absent before any report.', perTarget(scrapes, (s) => s.driftFiles)),
    gaugeFamily(
      'lanyard_webhook_deliveries_last_day',
      'Webhook deliveries received in the last 24 hours, by the delivery ledger\'s verdict.',
      Object.entries(deliveries).map(([verdict, value]) => ({ labels: { verdict }, value })),
    ),
    gaugeFamily('lanyard_outbox_pending', 'Outward messages (GitHub, Slack, the signed webhook) not delivered yet.', perTarget(scrapes, (s) => s.outboxPending)),
  ];
}
