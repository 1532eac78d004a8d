// The per-deployment way on from drift. When a deploy stops because files changed on the host since
// the last deploy (its `drift` step failed), an operator may try it again choosing, for that one
// deployment: `overwrite` the host's edits (after the backup; the relay's
// `deploy.allowDriftOverwrite` still caps it, the host owner has the last word) or `keep` the host's
// versions of the drifted files (the policy report-only). The target's own policy stays as it is.
import type { DeploymentView, RetryDriftChoice } from '../../shared/api.ts';
import { DEPLOYMENT_STATUSES, type DriftPolicy } from '../../shared/deployment.ts';
import type { Hub } from './hub.ts';

const POLICY_OF_CHOICE: Record<RetryDriftChoice, DriftPolicy> = { overwrite: 'overwrite', keep: 'report-only' };

/** The drift policy a deployment's job carries: the one chosen for it, else the target's. */
export function driftPolicyFor(d: Pick<DeploymentView, 'driftChoice'>, targetPolicy: DriftPolicy): DriftPolicy {
  return d.driftChoice ? POLICY_OF_CHOICE[d.driftChoice] : targetPolicy;
}

/**
 * A deploy that failed because its `drift` step did: the relay found host edits it would overwrite.
 * Its step log says so; should the log have missed the step's events (a result handled before the
 * progress sent ahead of it), a failure that names drift and got no further than the drift step does.
 */
export function stoppedOnDrift(hub: Hub, d: DeploymentView): boolean {
  if (d.kind !== 'deploy' || d.status !== 'failed') return false;
  const steps = hub.sql.exec('SELECT DISTINCT step, status FROM steps WHERE deployment_id = ?', d.id).toArray();
  if (steps.some((s) => s.step === 'drift' && s.status === 'failed')) return true;
  const drifted = (d.summary?.drift.length ?? 0) > 0;
  return drifted && steps.every((s) => s.step === 'fetch' || s.step === 'plan' || (s.step === 'drift' && s.status === 'started'));
}

/** The target's newest deployment, when it is a deploy stopped on drift: what the ways on apply to. */
export function newestStoppedOnDrift(hub: Hub): DeploymentView | null {
  const newest = hub.deployments.latest(DEPLOYMENT_STATUSES);
  return newest && stoppedOnDrift(hub, newest) ? newest : null;
}
