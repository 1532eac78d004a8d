// A drift policy set for one deployment only (the `capture` drift choice retries with report-only,
// keeping the host's versions of the files it captured); the target's own policy stays as it is.
import type { DriftPolicy } from '../../shared/deployment.ts';
import type { Hub } from './hub.ts';

const CREATE = 'CREATE TABLE IF NOT EXISTS deployment_drift_policy (deployment_id TEXT PRIMARY KEY, policy TEXT NOT NULL)';

export function setDriftPolicyOf(hub: Hub, deploymentId: string, policy: DriftPolicy): void {
  hub.sql.exec(CREATE);
  hub.sql.exec('INSERT OR REPLACE INTO deployment_drift_policy (deployment_id, policy) VALUES (?, ?)', deploymentId, policy);
}

/** The policy set for this deployment, or null: the target's. */
export function driftPolicyOf(hub: Hub, deploymentId: string): DriftPolicy | null {
  hub.sql.exec(CREATE);
  const row = hub.sql.exec('SELECT policy FROM deployment_drift_policy WHERE deployment_id = ?', deploymentId).toArray()[0];
  return row ? (String(row.policy) as DriftPolicy) : null;
}
