// A deployment's step events folded into one row per step, as the progress list shows them: the
// step's latest state, its last message and how long it took (or has been running).
import type { DeploymentView, StepEvent } from '../../shared/api.ts';
import { isFinal, type StepName } from '../../shared/deployment.ts';

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'unfinished';

export interface StepRow {
  step: StepName;
  state: StepState;
  message: string;
  /** Reported by the relay when the step ended; for a running step, null (see `startedAt`). */
  durationMs: number | null;
  startedAt: number | null;
}

/** The steps a deploy goes through when nothing fails; shown as pending until the relay reaches them. */
const DEPLOY_STEPS: readonly StepName[] = ['fetch', 'plan', 'drift', 'backup', 'apply', 'check', 'activate', 'verify', 'record'];

export function stepRows(deployment: DeploymentView, events: readonly StepEvent[]): StepRow[] {
  const rows = new Map<StepName, StepRow>();
  for (const event of events) {
    let row = rows.get(event.step);
    if (!row) {
      row = { step: event.step, state: 'pending', message: '', durationMs: null, startedAt: null };
      rows.set(event.step, row);
    }
    row.message = event.message;
    if (event.status === 'started') {
      row.state = 'running';
      row.startedAt ??= event.at;
      row.durationMs = null;
    } else {
      row.state = event.status;
      row.durationMs = event.durationMs ?? (row.startedAt !== null ? event.at - row.startedAt : null);
    }
  }
  const final = isFinal(deployment.status);
  if (final) {
    // The job ended while the step never said it did (the relay was stopped, or the lease ran out).
    for (const row of rows.values()) if (row.state === 'running') row.state = 'unfinished';
  } else if (deployment.kind === 'deploy' && !rows.has('rollback')) {
    for (const step of DEPLOY_STEPS) {
      if (!rows.has(step)) rows.set(step, { step, state: 'pending', message: '', durationMs: null, startedAt: null });
    }
  }
  return [...rows.values()];
}

/** The step a deployment is on (or reached last): steps run one after another, so the last one reported. */
export function latestStep(rows: readonly StepRow[]): StepRow | null {
  const reached = rows.filter((r) => r.state !== 'pending');
  return reached[reached.length - 1] ?? null;
}
