// The queue of one target: a deploy goes in, and the latest commit wins (every deploy still queued
// for an older commit is superseded by it); an operator may cancel what is still queued. Which
// push is the latest is push-ordering.ts's to say; handing the queue to the relay is dispatch.ts's.
import type { DeploymentView } from '../../shared/api.ts';
import { newId } from '../../shared/ids.ts';
import { quoteInput } from '../http/quote-input.ts';
import { readBranchHead, storeBranchHead } from './branch-head.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import type { EnqueueDeploy } from './requests.ts';

/** Queues a deploy, superseding the queued older ones (the latest commit wins); the caller pumps and tells of the change. */
export function queueDeploy(hub: Hub, request: EnqueueDeploy, now: number): HubResult<{ deploymentId: string; created: true; superseded: string[] }> {
  if (request.branchHead && request.sha) storeBranchHead(hub.meta, { sha: request.sha, ...request.branchHead });
  const head = readBranchHead(hub.meta);
  const sha = request.sha ?? head?.sha;
  if (!sha) {
    return refused(409, 'no_commit', 'No commit given and no push to the branch has been seen yet: pass a sha.');
  }
  const id = newId('dep', now);
  const knownHead = head && head.sha === sha ? head : null;
  const message = request.message ?? knownHead?.message ?? '';
  const author = request.author ?? knownHead?.author ?? null;
  hub.deployments.insert({
    id,
    kind: 'deploy',
    sha,
    ref: request.ref ?? `refs/heads/${hub.config().branch}`,
    trigger: request.trigger,
    actor: request.actor,
    message,
    author,
    deliveryId: request.deliveryId,
    rollbackOf: null,
    restoreBackupId: null,
    createdAt: now,
    driftChoice: request.driftChoice ?? null,
  });
  if (request.pushedOver !== undefined) hub.pushes.record(request.pushedOver, sha, id, now, { message, author });
  // The latest commit wins: anything still waiting to deploy an older one is skipped, a deploy
  // waiting for the restart window too (the newer commit holds its change as well).
  const superseded = hub.deployments
    .withStatus(['queued', 'waiting_for_window'])
    .filter((d) => d.kind === 'deploy' && d.id !== id)
    .map((d) => d.id);
  for (const old of superseded) {
    hub.deployments.update(old, { status: 'superseded', superseded_by: id, reason: `superseded by ${id}`, finished_at: now });
  }
  hub.audit.record({
    at: now,
    actor: request.actor,
    action: 'deploy.queued',
    detail: { deploymentId: id, sha, trigger: request.trigger, deliveryId: request.deliveryId, superseded },
    source: request.source,
  });
  return accepted({ deploymentId: id, created: true, superseded });
}

/** Cancels a deployment that is still queued; one a relay has, or that ended, is refused. */
export function cancelQueued(hub: Hub, deploymentId: string, actor: string, source: string | null): HubResult<DeploymentView> {
  const d = hub.deployments.get(deploymentId);
  if (!d) return refused(404, 'unknown_deployment', `No deployment ${quoteInput(deploymentId)} on this target.`);
  if (d.status !== 'queued') {
    return refused(409, 'not_cancellable', `Deployment ${d.id} is ${d.status}; only a queued deployment can be cancelled.`);
  }
  const now = Date.now();
  hub.deployments.update(d.id, { status: 'cancelled', reason: `cancelled by ${actor}`, finished_at: now });
  hub.audit.record({ at: now, actor, action: 'deploy.cancelled', detail: { deploymentId: d.id }, source });
  hub.changed();
  return accepted(hub.deployments.get(d.id)!);
}
