// What arrives for a target to act on, from GitHub's webhooks and the API: a deploy (a push, a
// workflow run, a dispatch, an operator), a push to a branch the target does not deploy on push,
// a gating workflow's verdict. Each is checked against what the hub knows (seen before? behind the
// branch? delivered late?) before anything is queued; the queue, push ordering and the branch head
// have modules of their own.
import { behindBranch } from './behind-branch.ts';
import { readBranchHead, storeBranchHead } from './branch-head.ts';
import type { Hub } from './hub.ts';
import { accepted, type HubResult } from './hub-result.ts';
import { followBranch, recordLatePush } from './push-ordering.ts';
import { queueDeploy } from './queue.ts';
import type { BranchHead, EnqueueDeploy, EnqueueOutcome, WorkflowVerdict } from './requests.ts';
import { keepVerdict } from './workflow-verdicts.ts';
import { noteReceipt } from '../traces/trace-records.ts';

/** GitHub redelivers deliveries of the past 3 days; the pushes that moved a gated target's head are remembered ten times as long. */
const HEAD_DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A deploy asked for: queued unless seen before or behind the branch; a push delivered late is recorded and deploys nothing. */
export function takeDeploy(hub: Hub, request: EnqueueDeploy): HubResult<EnqueueOutcome> {
  if (request.deliveryId) {
    const existing = hub.deployments.byDelivery(request.deliveryId);
    if (existing) return accepted({ deploymentId: existing.id, created: false, superseded: [], notDeployed: null });
  }
  const behind = behindBranch(request, readBranchHead(hub.meta)?.sha ?? null, hub.pushes);
  if (behind) return behind;
  const now = Date.now();
  const headBefore = readBranchHead(hub.meta)?.sha ?? null;
  const push = request.pushedOver !== undefined && request.sha ? { ...request, sha: request.sha, pushedOver: request.pushedOver } : null;
  if (push) {
    // The latest commit wins, but arrival order is no push order: a push the branch was already
    // pushed on from supersedes nothing and moves no head (push-transitions.ts has the rule).
    const later = hub.pushes.laterThan(push.pushedOver, push.sha, headBefore);
    if (later) {
      const outcome = recordLatePush(hub, push, later, now);
      followBranch(hub, push, headBefore, now);
      hub.pump();
      hub.changed();
      return accepted(outcome);
    }
  }
  const queued = queueDeploy(hub, request, now);
  if (!queued.ok) return queued;
  // Issue 20, traces: the webhook's receipt starts the deployment's trace.
  if (request.receivedAt !== undefined) noteReceipt(hub.sql, queued.value.deploymentId, Math.min(request.receivedAt, now));
  let notDeployed: string | null = null;
  if (push) {
    // Decided before the queue is pumped, so no relay is handed a commit the branch has moved past.
    const linked = followBranch(hub, push, headBefore, now);
    if (linked?.deploymentId && hub.deployments.get(queued.value.deploymentId)?.status === 'superseded') {
      notDeployed = `${linked.why}: ${linked.sha.slice(0, 7)} deploys instead (${linked.deploymentId})`;
    }
  }
  hub.pump();
  // Watching status pages refresh; the outside world hears about it (changed announces).
  hub.changed();
  return accepted({ ...queued.value, notDeployed });
}

/** A push to a target that does not deploy on push (CI-gated or dispatch): the head moves, unless the push is late or redelivered. */
export function takeBranchHead(hub: Hub, head: BranchHead): void {
  if (head.deliveryId) {
    // A redelivery (GitHub's "Redeliver", days later) names a commit the branch has moved past:
    // the head stays. Deploying targets get this from the deployments' delivery ids instead.
    if (hub.sql.exec('SELECT 1 FROM head_deliveries WHERE delivery_id = ?', head.deliveryId).toArray().length) return;
    hub.sql.exec('INSERT INTO head_deliveries (delivery_id, seen_at) VALUES (?, ?)', head.deliveryId, head.at);
    hub.sql.exec('DELETE FROM head_deliveries WHERE seen_at < ?', head.at - HEAD_DELIVERY_RETENTION_MS);
  }
  const headBefore = readBranchHead(hub.meta)?.sha ?? null;
  const push = head.pushedOver !== undefined ? { ...head, pushedOver: head.pushedOver, deliveryId: head.deliveryId ?? null, source: null } : null;
  if (push) {
    // A push delivered after a later one leaves the head where the later one put it.
    const later = hub.pushes.laterThan(push.pushedOver, push.sha, headBefore);
    hub.pushes.record(push.pushedOver, push.sha, null, head.at, { message: head.message, author: head.author });
    // Only the head moves when a late push links it on: this target deploys on CI or dispatch.
    if (later) {
      if (followBranch(hub, push, headBefore, head.at)) hub.changed();
      return;
    }
  }
  storeBranchHead(hub.meta, head);
  if (push) followBranch(hub, push, headBefore, head.at);
  // A gated target now shows the commit it waits for.
  hub.changed();
}

/** The gating workflow started, or concluded without success, for a commit: kept for the status. */
export function takeWorkflowVerdict(hub: Hub, verdict: WorkflowVerdict): void {
  const { sha, workflow, conclusion, url, at } = verdict;
  keepVerdict(hub.meta, { sha, workflow, conclusion, url, at });
  // A status page showing this commit as waiting now shows why it will not deploy.
  hub.changed();
}
