// A rollback is a deployment of an earlier commit: one that succeeded here, named or the one before
// the commit deployed now; or a restore of a backup the relay took, which brings back the commit
// deployed before it was taken (restore-plan.ts). It waits in the queue like any deployment, but
// the latest-commit-wins rule is for deploys of the branch: a rollback supersedes none, and none
// supersedes it.
import { firstLine } from '../../shared/commit.ts';
import { newId } from '../../shared/ids.ts';
import { tagOfRef } from '../../shared/release-tag.ts';
import { quoteInput } from '../http/quote-input.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import type { EnqueueRollback } from './requests.ts';
import { planRestore } from './restore-plan.ts';

/** A rollback asked for: to a deployment that succeeded (by default the one before the one deployed), or a restore of a backup. */
export function takeRollback(hub: Hub, request: EnqueueRollback): HubResult<{ deploymentId: string }> {
  const now = Date.now();
  const deployed = hub.deployments.latest(['succeeded']);
  let sha: string;
  let rollbackOf: string | null = null;
  let backupId: string | null = null;
  let rollbackRef: string | null = null;
  let message: string;
  if (request.backupId) {
    const plan = planRestore(hub, request.backupId);
    if (!plan.ok) return plan;
    sha = plan.value.sha;
    backupId = request.backupId;
    const takenBefore = plan.value.maker?.id ?? plan.value.kept?.deploymentId ?? null;
    message = `Restore backup ${request.backupId}${takenBefore ? ` (taken before ${takenBefore})` : ''}`;
  } else {
    const goal = request.deploymentId
      ? hub.deployments.get(request.deploymentId)
      : deployed
        ? hub.deployments.latest(['succeeded'], deployed.id)
        : null;
    if (request.deploymentId && !goal) return refused(404, 'unknown_deployment', `No deployment ${quoteInput(request.deploymentId)} on this target.`);
    if (!goal) return refused(409, 'nothing_to_roll_back_to', 'There is no earlier successful deployment to roll back to.');
    if (goal.status !== 'succeeded') {
      return refused(409, 'not_rollbackable', `Deployment ${goal.id} ended ${goal.status}; only a deployment that succeeded can be rolled back to.`);
    }
    sha = goal.sha;
    rollbackOf = goal.id;
    if (tagOfRef(goal.ref)) rollbackRef = goal.ref;
    message = `Roll back to ${goal.id} (${goal.sha.slice(0, 7)} ${firstLine(goal.message)})`;
  }
  const id = newId('dep', now);
  hub.deployments.insert({
    id,
    kind: 'rollback',
    sha,
    // Back to a release tag's deployment: its tag again, so the relay checks the tag as it did then (issue 18).
    ref: rollbackRef ?? `refs/heads/${hub.config().branch}`,
    trigger: 'rollback',
    actor: request.actor,
    message,
    author: null,
    deliveryId: null,
    rollbackOf,
    restoreBackupId: backupId,
    createdAt: now,
  });
  hub.audit.record({ at: now, actor: request.actor, action: 'rollback.queued', detail: { deploymentId: id, sha, rollbackOf, backupId }, source: request.source });
  hub.pump();
  // Watching status pages refresh; the outside world hears about it (changed announces).
  hub.changed();
  return accepted({ deploymentId: id });
}
