// Trying a deployment again once the owner has changed what stopped it: an `exclude` line in the
// relay's relay.yaml, a folder's permissions on the host, a Home Assistant that was down. Nothing in
// the repository changed, so no push comes, and GitHub's "Redeliver" rightly answers `duplicate`:
// the hub offers its own door. Only the newest deployment of the target may be tried again, and
// only a deploy that failed or was rolled back: anything newer already says what the house should
// run, and a success needs no second go. A deploy that stopped on drift may be tried again with a
// way on for that deployment only (drift-choice.ts).
import type { DeploymentView, RetryDriftChoice } from '../../shared/api.ts';
import { DEPLOYMENT_STATUSES } from '../../shared/deployment.ts';
import { quoteInput } from '../http/quote-input.ts';
import { stoppedOnDrift } from './drift-choice.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { takeDeploy } from './intake.ts';

const RETRYABLE = ['failed', 'rolled_back'] as const;

/**
 * The deployment to try again, or why it cannot be: the status page asks before it offers the
 * button, the POST decides the same way. A way on from drift only for a deploy that stopped on drift.
 */
export function retryPlan(hub: Hub, deploymentId: string, drift?: RetryDriftChoice): HubResult<DeploymentView> {
  const d = hub.deployments.get(deploymentId);
  if (!d) return refused(404, 'unknown_deployment', `No deployment ${quoteInput(deploymentId)} on this target.`);
  if (d.kind !== 'deploy') {
    return refused(409, 'not_retryable', `Deployment ${d.id} is a rollback; roll back again instead (status page, or POST …/rollback).`);
  }
  if (!(RETRYABLE as readonly string[]).includes(d.status)) {
    return refused(409, 'not_retryable', `Deployment ${d.id} is ${d.status}; only a deploy that failed or was rolled back can be tried again.`);
  }
  const newest = hub.deployments.latest(DEPLOYMENT_STATUSES);
  if (newest && newest.id !== d.id) {
    return refused(
      409,
      'not_newest',
      `Deployment ${newest.id} (${newest.status}) came after ${d.id}, so it says what the house should run; deploy ${d.sha.slice(0, 7)} by hand if that is what you want.`,
    );
  }
  if (drift && !stoppedOnDrift(hub, d)) {
    return refused(
      409,
      'not_stopped_on_drift',
      `Deployment ${d.id} did not stop on drift (it ended ${d.status}${d.reason ? `: ${d.reason.slice(0, 200)}` : ''}); "drift": "${drift}" is only for a deploy whose drift step stopped it. Try it again without "drift".`,
    );
  }
  return accepted(d);
}

/**
 * Queues the same commit again as a new deployment (trigger `retry`), audited with the one it
 * retries and the way on from drift chosen, if any (who chose which is in the entry).
 */
export function takeRetry(hub: Hub, request: { deploymentId: string; actor: string; source: string | null; drift?: RetryDriftChoice | undefined }): HubResult<{ deploymentId: string }> {
  const plan = retryPlan(hub, request.deploymentId, request.drift);
  if (!plan.ok) return plan;
  const d = plan.value;
  const queued = takeDeploy(hub, {
    target: d.target,
    sha: d.sha,
    ref: d.ref,
    trigger: 'retry',
    actor: request.actor,
    message: d.message,
    author: d.author,
    deliveryId: null,
    source: request.source,
    ...(request.drift ? { driftChoice: request.drift } : {}),
  });
  if (!queued.ok) return queued;
  const { deploymentId } = queued.value;
  hub.audit.record({ at: Date.now(), actor: request.actor, action: 'deploy.retried', detail: { deploymentId, retryOf: d.id, sha: d.sha, ...(request.drift ? { drift: request.drift } : {}) }, source: request.source });
  return accepted({ deploymentId });
}
