// What the hub keeps for a deployment's trace until it ends: when its webhook was received, and the
// spans the relay made for its steps. A relay's span is kept only when it belongs where it says:
// the deployment's trace, under the span of the attempt the relay is running. Rows go once the
// deployment's trace has been queued (trace-export.ts), so the tables hold only unfinished ones.
import type { DeploymentView } from '../../shared/api.ts';
import type { StepName, StepStatus } from '../../shared/deployment.ts';
import type { ProgressMessage } from '../../shared/protocol.ts';
import { dispatchSpanIdOf, traceIdOf } from './trace-ids.ts';

/** A relay that reports more steps than this for one deployment is not making a trace worth keeping whole. */
export const MAX_STEP_SPANS = 500;

export interface StepSpanRecord {
  spanId: string;
  parentSpanId: string;
  attempt: number;
  step: StepName;
  /** `started` when no event ended it (the relay was lost). */
  status: StepStatus;
  message: string;
  /** The relay's clock, ms since the epoch. */
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
}

export function noteReceipt(sql: SqlStorage, deploymentId: string, receivedAt: number): void {
  sql.exec('INSERT OR IGNORE INTO trace_receipts (deployment_id, received_at) VALUES (?, ?)', deploymentId, receivedAt);
}

export function receiptOf(sql: SqlStorage, deploymentId: string): number | null {
  const row = sql.exec('SELECT received_at FROM trace_receipts WHERE deployment_id = ?', deploymentId).toArray()[0];
  return row ? Number(row.received_at) : null;
}

/** Keeps the step's span a progress event names, if it names one of this deployment's current attempt. */
export function recordStepSpan(sql: SqlStorage, target: string, d: DeploymentView, p: ProgressMessage): void {
  const span = p.span;
  if (!span || p.detail?.heartbeat === true) return;
  if (span.traceId !== traceIdOf(target, d.id) || span.parentSpanId !== dispatchSpanIdOf(target, d.id, d.attempt)) return;
  const message = p.message.slice(0, 1000);
  const existing = sql.exec('SELECT started_at FROM trace_step_spans WHERE deployment_id = ? AND span_id = ?', d.id, span.spanId).toArray()[0];
  if (existing) {
    if (p.status === 'started') return;
    sql.exec(
      'UPDATE trace_step_spans SET status = ?, message = ?, ended_at = ?, duration_ms = ? WHERE deployment_id = ? AND span_id = ? AND ended_at IS NULL',
      p.status, message, p.at, p.durationMs ?? null, d.id, span.spanId,
    );
    return;
  }
  const count = Number(sql.exec('SELECT COUNT(*) AS n FROM trace_step_spans WHERE deployment_id = ?', d.id).one().n);
  if (count >= MAX_STEP_SPANS) return;
  // A span first heard of at its end (its start was lost, or it was skipped) began durationMs earlier.
  const startedAt = p.status === 'started' ? p.at : p.at - Math.round(p.durationMs ?? 0);
  sql.exec(
    `INSERT INTO trace_step_spans (deployment_id, span_id, parent_span_id, attempt, step, status, message, started_at, ended_at, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    d.id, span.spanId, span.parentSpanId, d.attempt, p.step, p.status, message, startedAt, p.status === 'started' ? null : p.at, p.durationMs ?? null,
  );
}

export function stepSpansOf(sql: SqlStorage, deploymentId: string): StepSpanRecord[] {
  return sql
    .exec('SELECT * FROM trace_step_spans WHERE deployment_id = ? ORDER BY started_at, rowid', deploymentId)
    .toArray()
    .map((r) => ({
      spanId: String(r.span_id),
      parentSpanId: String(r.parent_span_id),
      attempt: Number(r.attempt),
      step: String(r.step) as StepName,
      status: String(r.status) as StepStatus,
      message: String(r.message),
      startedAt: Number(r.started_at),
      endedAt: r.ended_at === null ? null : Number(r.ended_at),
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    }));
}

export function forgetTrace(sql: SqlStorage, deploymentId: string): void {
  sql.exec('DELETE FROM trace_receipts WHERE deployment_id = ?', deploymentId);
  sql.exec('DELETE FROM trace_step_spans WHERE deployment_id = ?', deploymentId);
}
