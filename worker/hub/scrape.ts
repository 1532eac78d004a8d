// What the hub answers a Prometheus scrape (worker/metrics/): from what it stores. The deployment
// metrics are computed by the function the status page's metrics use (shared/metrics.ts), reading
// only the columns they need. The step durations are the bulk of the storage (some thirty events a
// deployment), so they are counted once: the buckets so far and the last step event counted are
// kept in meta, and each scrape adds only the events written since (a range of the primary key).
// Events the step log later lets go stay counted, as a counter should.
import { z } from 'zod';
import { RAN_STATUSES, StepName, type DeploymentKind, type DeploymentStatus } from '../../shared/deployment.ts';
import { computeMetrics, type MetricsRow } from '../../shared/metrics.ts';
import { addDurations, STEP_DURATION_BOUNDS, type StepDurations, type TargetScrape } from '../metrics/target-scrape.ts';
import type { Hub } from './hub.ts';
import { relayView } from './relay-socket.ts';

const STEP_TALLY_KEY = 'scrape_step_durations';

/** The step durations counted so far, with the bounds they were counted in and the last event's seq. */
const StepTally = z.object({
  bounds: z.array(z.number()),
  lastSeq: z.number().int(),
  steps: z.array(z.object({ step: StepName, counts: z.array(z.number()), sumMs: z.number() })),
});
type StepTally = z.infer<typeof StepTally>;

interface ScrapeRow extends MetricsRow {
  kind: DeploymentKind;
}

const num = (v: SqlStorageValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export function scrapeOf(hub: Hub, target: string, now: number): TargetScrape {
  const rows: ScrapeRow[] = hub.sql
    .exec('SELECT kind, status, created_at, dispatched_at, started_at, finished_at FROM deployments ORDER BY seq')
    .toArray()
    .map((r) => ({
      kind: String(r.kind) as DeploymentKind,
      status: String(r.status) as DeploymentStatus,
      createdAt: Number(r.created_at),
      dispatchedAt: num(r.dispatched_at),
      startedAt: num(r.started_at),
      finishedAt: num(r.finished_at),
    }));
  const count = (status: DeploymentStatus) => rows.filter((r) => r.status === status).length;
  const lastSuccess = hub.deployments.latest(['succeeded']);
  return {
    target,
    metrics: computeMetrics(rows, now, 1),
    superseded: count('superseded'),
    cancelled: count('cancelled'),
    requestedRollbacks: rows.filter((r) => r.kind === 'rollback' && RAN_STATUSES.includes(r.status)).length,
    lastSuccessAt: lastSuccess?.finishedAt ?? null,
    queued: count('queued'),
    relayConnected: relayView(hub).connected,
    driftFiles: hub.driftReports.read()?.total ?? null,
    outboxPending: Number(hub.sql.exec(`SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'`).one().n),
    steps: stepDurations(hub),
  };
}

function readTally(hub: Hub): StepTally {
  const fresh: StepTally = { bounds: [...STEP_DURATION_BOUNDS], lastSeq: 0, steps: [] };
  const raw = hub.meta.get(STEP_TALLY_KEY);
  if (!raw) return fresh;
  try {
    const tally = StepTally.parse(JSON.parse(raw));
    // Other bounds (an older edge): counted again from the events still kept.
    return JSON.stringify(tally.bounds) === JSON.stringify(STEP_DURATION_BOUNDS) ? tally : fresh;
  } catch {
    return fresh;
  }
}

/** The duration of every step that ended (succeeded or failed), bucketed per step. */
function stepDurations(hub: Hub): StepDurations[] {
  const tally = readTally(hub);
  const newest = Number(hub.sql.exec('SELECT COALESCE(MAX(seq), 0) AS seq FROM steps').one().seq);
  if (newest > tally.lastSeq) {
    const added = new Map<StepName, number[]>();
    const ended = hub.sql.exec(
      `SELECT step, duration_ms FROM steps WHERE seq > ? AND seq <= ? AND status IN ('succeeded', 'failed') AND duration_ms IS NOT NULL ORDER BY seq`,
      tally.lastSeq,
      newest,
    );
    for (const r of ended) {
      const step = StepName.safeParse(r.step);
      if (!step.success) continue;
      const list = added.get(step.data) ?? [];
      list.push(Number(r.duration_ms));
      added.set(step.data, list);
    }
    for (const [step, durations] of added) {
      const index = tally.steps.findIndex((s) => s.step === step);
      const sum = addDurations(index === -1 ? null : tally.steps[index]!, durations);
      if (index === -1) tally.steps.push({ step, ...sum });
      else tally.steps[index] = { step, ...sum };
    }
    tally.lastSeq = newest;
    hub.meta.set(STEP_TALLY_KEY, JSON.stringify(tally));
  }
  return tally.steps;
}
