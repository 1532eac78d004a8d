// Arrival order is no push order: GitHub does not promise to deliver pushes in the order they were
// made. push-transitions.ts has the rule that tells a push delivered late from a new one; this is
// what the hub does with it. A late push is recorded as superseded and deploys nothing. After any
// push, when the moves seen lead on from the branch head (a late push had moved it back), the head
// follows them, and a target that deploys on push deploys where they lead.
import { newId } from '../../shared/ids.ts';
import { readBranchHead, storeBranchHead } from './branch-head.ts';
import { ACTIVE } from './deployments.ts';
import type { Hub } from './hub.ts';
import type { PushTransition } from './push-transitions.ts';
import { queueDeploy } from './queue.ts';
import type { EnqueueDeploy, EnqueueOutcome } from './requests.ts';

/** Who moves the branch head (and queues its deploy) when a late push links it to later pushes. */
const LINK_ACTOR = 'lanyard (late push linked the branch)';

/** A push as followBranch needs it: its move, and where it came from for the audit. */
export interface LinkingPush {
  sha: string;
  pushedOver: string;
  deliveryId: string | null;
  source: string | null;
}

/** Where a late push linked the branch head to, and the deployment that deploys it there (if the target deploys on push). */
export interface LinkedBranch {
  sha: string;
  why: string;
  deploymentId: string | null;
}

/**
 * After a push is recorded (stale or not): when the moves seen lead on from the branch head, the
 * head is behind (a late push moved it back; push-transitions.ts has the rule). It moves to where
 * they lead, and when the push that moved the branch there made a deployment (the target deploys
 * on push), that commit is deployed again through the queue, superseding the older ones queued,
 * unless it is already queued, running, or the last one deployed. The caller pumps and tells of the change.
 */
export function followBranch(hub: Hub, push: LinkingPush, headBefore: string | null, now: number): LinkedBranch | null {
  if (!hub.pushes.recordsMove(push.pushedOver, push.sha)) return null;
  const head = readBranchHead(hub.meta);
  if (!head) return null;
  const end = hub.pushes.chainFrom(head.sha, push.sha);
  if (!end) return null;
  const origin = end.deploymentId ? hub.deployments.get(end.deploymentId) : null;
  const message = end.commit?.message ?? origin?.message ?? '';
  const author = end.commit?.author ?? origin?.author ?? null;
  storeBranchHead(hub.meta, { sha: end.sha, message, author, at: now });
  const to = end.sha.slice(0, 7);
  const why = `push ${push.pushedOver.slice(0, 7)}→${push.sha.slice(0, 7)} linked ${(headBefore ?? end.from).slice(0, 7)} to ${to}`;
  const link = { linkedBy: { before: push.pushedOver, after: push.sha, deliveryId: push.deliveryId }, from: end.from, to: end.sha };
  if (!origin) {
    hub.audit.record({ at: now, actor: LINK_ACTOR, action: 'push.linked', detail: { ...link, message: `${why}: the branch head is ${to}`, deploymentId: null }, source: push.source });
    return { sha: end.sha, why, deploymentId: null };
  }
  const queuedDeploys = hub.deployments.withStatus(['queued']).filter((d) => d.kind === 'deploy');
  const active = hub.deployments.withStatus(ACTIVE)[0] ?? null;
  const lastRun = active ?? hub.deployments.latest(['succeeded', 'failed', 'rolled_back']);
  const queuedAlready = queuedDeploys.find((d) => d.sha === end.sha) ?? null;
  const inPlace = lastRun && lastRun.sha === end.sha && (active !== null || lastRun.status === 'succeeded') ? lastRun : null;
  if (queuedAlready || inPlace) {
    const keeper = (queuedAlready ?? inPlace)!;
    // Never deployed twice: what is queued older than it is skipped, as a new deploy of it would.
    const superseded = queuedDeploys.filter((d) => d.id !== keeper.id).map((d) => d.id);
    for (const old of superseded) {
      hub.deployments.update(old, { status: 'superseded', superseded_by: keeper.id, reason: `${why}, which ${keeper.id} deploys`, finished_at: now });
    }
    hub.audit.record({
      at: now,
      actor: LINK_ACTOR,
      action: 'push.linked',
      detail: { ...link, message: `${why}: ${to} is ${keeper.status} as ${keeper.id}`, deploymentId: keeper.id, superseded },
      source: push.source,
    });
    return { sha: end.sha, why, deploymentId: keeper.id };
  }
  const queued = queueDeploy(
    hub,
    { target: hub.meta.targetName(), sha: end.sha, ref: origin.ref, trigger: 'push', actor: origin.actor || LINK_ACTOR, message, author, deliveryId: null, source: push.source },
    now,
  );
  if (!queued.ok) return null;
  hub.audit.record({
    at: now,
    actor: LINK_ACTOR,
    action: 'push.linked',
    detail: { ...link, message: `${why}: deploying ${to}`, deploymentId: queued.value.deploymentId, superseded: queued.value.superseded },
    source: push.source,
  });
  return { sha: end.sha, why, deploymentId: queued.value.deploymentId };
}

/**
 * A push delivered after a later push to the branch: in the history as superseded (by the later
 * push's deployment), so the delivery is accounted for, but it deploys nothing and moves no head.
 * Its move is remembered all the same: a push delivered later still that the branch was pushed
 * on from is judged stale by it, and it may link the head to the pushes made after it. The
 * caller tells of the change.
 */
export function recordLatePush(hub: Hub, request: EnqueueDeploy & { sha: string; pushedOver: string }, later: PushTransition, now: number): EnqueueOutcome {
  const id = newId('dep', now);
  const reason = `a later push (${later.after.slice(0, 7)}) was delivered first`;
  hub.deployments.insert({
    id,
    kind: 'deploy',
    sha: request.sha,
    ref: request.ref ?? `refs/heads/${hub.config().branch}`,
    trigger: request.trigger,
    actor: request.actor,
    message: request.message ?? '',
    author: request.author,
    deliveryId: request.deliveryId,
    rollbackOf: null,
    restoreBackupId: null,
    createdAt: now,
  });
  // Final at once, in the same synchronous step: no relay or status page ever sees it queued.
  hub.deployments.update(id, { status: 'superseded', superseded_by: later.deploymentId, reason, finished_at: now });
  hub.pushes.record(request.pushedOver, request.sha, id, now, { message: request.message ?? '', author: request.author });
  hub.audit.record({
    at: now,
    actor: request.actor,
    action: 'push.delivered_late',
    detail: { deploymentId: id, sha: request.sha, pushedOver: request.pushedOver, laterPush: later.after, supersededBy: later.deploymentId, deliveryId: request.deliveryId },
    source: request.source,
  });
  return { deploymentId: id, created: true, superseded: [], notDeployed: reason };
}
