// Captures at the hub: an operator (or `capture: auto`, or a deploy that merged host edits) asks
// for the host's edits to become a pull request; the hub keeps the request, hands it to the relay
// when the relay can capture and nothing else runs (never two at once, never beside a job), and on
// the relay's answer queues the pull request in the outbox (github-pulls.ts delivers it) and, for
// the `capture` drift choice, the retry of the deploy that stopped on drift, keeping the host's
// versions. Audited: capture.requested, then capture.pushed, capture.nothing or capture.failed.
import type { DeploymentView } from '../../shared/api.ts';
import { CAPTURE_CAPABILITY, type CapturedMessage } from '../../shared/drift.ts';
import { newId } from '../../shared/ids.ts';
import { MAX_REQUESTED_BY_CHARS } from '../../shared/protocol.ts';
import { capturePullRequest } from '../outward/capture-pull.ts';
import { outwardSettings } from '../outward/settings.ts';
import type { CaptureTrigger, CaptureView } from './capture-store.ts';
import { ACTIVE } from './deployments.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { attachmentOf, liveRelay, sendTo } from './relay-socket.ts';
import { retryPlan, takeRetry } from './retry.ts';

export interface CaptureRequest {
  actor: string;
  source: string | null;
  trigger: CaptureTrigger;
  /** For the `capture` drift choice: the deployment to retry (keeping the host's files) once pushed. */
  retryOf?: string | null;
}

/**
 * Queues a capture; one already waiting is answered instead of a second (it will capture the same
 * host), unless this one also asks for a retry. The caller pumps.
 */
export function queueCapture(hub: Hub, request: CaptureRequest, now = Date.now()): HubResult<{ captureId: string; queued: boolean }> {
  const waiting = hub.captures.withStatus('queued')[0];
  if (waiting && !request.retryOf) return accepted({ captureId: waiting.id, queued: false });
  const id = newId('cap', now);
  hub.captures.insert({ id, trigger: request.trigger, requestedBy: request.actor, source: request.source, requestedAt: now, retryOf: request.retryOf ?? null });
  hub.audit.record({ at: now, actor: request.actor, action: 'capture.requested', detail: { captureId: id, trigger: request.trigger, retryOf: request.retryOf ?? null }, source: request.source });
  return accepted({ captureId: id, queued: true });
}

/** POST …/capture: queue it, hand it on if the relay is free, and say which capture it is. */
export function takeCapture(hub: Hub, actor: string, source: string | null): HubResult<{ capture: CaptureView }> {
  const queued = queueCapture(hub, { actor, source, trigger: 'manual' });
  if (!queued.ok) return queued;
  hub.pump();
  hub.changed();
  return accepted({ capture: hub.captures.get(queued.value.captureId)! });
}

/**
 * The `capture` drift choice for a deploy that stopped on drift: the deployment must be one that can
 * be tried again (retry.ts decides, as for a plain retry); the capture goes first, the retry after.
 */
export function takeCaptureThenRetry(hub: Hub, deploymentId: string, actor: string, source: string | null): HubResult<{ capture: CaptureView; retryOf: DeploymentView }> {
  const plan = retryPlan(hub, deploymentId);
  if (!plan.ok) return plan;
  if (!plan.value.summary?.drift?.length) {
    return refused(409, 'no_drift', `Deployment ${plan.value.id} did not stop on files changed on the host, so there is nothing of the host's to capture first; try it again without a drift choice.`);
  }
  const queued = queueCapture(hub, { actor, source, trigger: 'drift_choice', retryOf: plan.value.id });
  if (!queued.ok) return queued;
  hub.pump();
  hub.changed();
  return accepted({ capture: hub.captures.get(queued.value.captureId)!, retryOf: plan.value });
}

/**
 * Hands the oldest queued capture to the relay when the relay can capture and nothing runs; true
 * while a capture is with the relay (dispatch.ts then holds jobs back). A relay that cannot capture
 * gets none: the waiting captures fail with a sentence saying how to set it up.
 */
export function dispatchCapture(hub: Hub): boolean {
  if (hub.captures.withStatus('sent').length) return true;
  const next = hub.captures.withStatus('queued')[0];
  if (!next) return false;
  if (hub.deployments.withStatus(ACTIVE).length) return false;
  const relay = liveRelay(hub);
  if (!relay) return false;
  const now = Date.now();
  if (!attachmentOf(relay)?.hello?.capabilities.includes(CAPTURE_CAPABILITY)) {
    for (const c of hub.captures.withStatus('queued')) finish(hub, c, { status: 'failed', reason: 'the relay is not set up to capture host edits: add a `capture:` section to its relay.yaml and restart it (docs/drift.md)' }, now);
    return false;
  }
  hub.captures.update(next.id, { status: 'sent', sent_at: now });
  sendTo(relay, {
    type: 'capture',
    captureId: next.id,
    target: hub.config().name,
    requestedBy: next.requestedBy.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, Math.min(256, MAX_REQUESTED_BY_CHARS)),
  });
  hub.changed();
  return true;
}

/** The relay's socket went, or a relay said hello: a capture it had may never be answered, so it is sent again (a capture is safe to repeat). */
export function requeueSentCaptures(hub: Hub): void {
  for (const c of hub.captures.withStatus('sent')) hub.captures.update(c.id, { status: 'queued', sent_at: null });
}

/** The relay's answer to a capture. */
export function onCaptured(hub: Hub, message: CapturedMessage): void {
  const capture = hub.captures.get(message.captureId);
  // Only the capture the relay was handed, once: a repeated or unknown answer changes nothing.
  if (!capture || capture.status !== 'sent') return;
  const now = Date.now();
  // The retry is queued while the capture still counts as with the relay, so dispatch holds it back
  // until its one-deploy drift policy is set (and the capture's answer recorded).
  if (capture.retryOf && message.outcome !== 'failed') retryKeepingHostEdits(hub, capture, now);
  finish(hub, capture, {
    status: message.outcome,
    reason: message.reason,
    branch: message.branch,
    commit_sha: message.commit,
    base_sha: message.base,
    files: JSON.stringify(message.files),
    total: message.total,
  }, now);
  const done = hub.captures.get(capture.id)!;
  if (message.outcome === 'pushed') queuePullRequest(hub, done, now);
  hub.pump();
  hub.changed();
}

function finish(hub: Hub, capture: CaptureView, changes: Record<string, SqlStorageValue>, now: number): void {
  hub.captures.update(capture.id, { ...changes, finished_at: now });
  const status = String(changes.status);
  const action = status === 'pushed' ? 'capture.pushed' : status === 'nothing_to_capture' ? 'capture.nothing' : 'capture.failed';
  hub.audit.record({
    at: now,
    actor: 'relay',
    action,
    detail: { captureId: capture.id, branch: changes.branch ?? null, commit: changes.commit_sha ?? null, base: changes.base_sha ?? null, total: changes.total ?? 0, reason: changes.reason ?? null },
    source: null,
  });
}

/** The pull request for a pushed capture, through the outbox (retried, never blocking anything). */
function queuePullRequest(hub: Hub, capture: CaptureView, now: number): void {
  try {
    const config = hub.config();
    if (!outwardSettings(hub.env, config).github) return;
    hub.outbox.enqueue([capturePullRequest(config, capture)], now);
    hub.reschedule();
  } catch (error) {
    console.error('could not queue the pull request of a capture', error);
  }
}

/** The `capture` drift choice, second half: the deploy again, its drifted files kept as the host has them. */
function retryKeepingHostEdits(hub: Hub, capture: CaptureView, now: number): void {
  const actor = `${capture.requestedBy} (after capture ${capture.id})`;
  const retried = takeRetry(hub, { deploymentId: capture.retryOf!, actor, source: null, drift: 'keep' });
  if (!retried.ok) {
    hub.audit.record({ at: now, actor: 'edge', action: 'capture.failed', detail: { captureId: capture.id, retryOf: capture.retryOf, reason: `the host's edits were captured, but the deploy was not tried again: ${retried.message}` }, source: null });
    return;
  }
  hub.audit.record({ at: now, actor, action: 'deploy.drift_choice', detail: { deploymentId: retried.value.deploymentId, retryOf: capture.retryOf, drift: 'capture', captureId: capture.id, driftPolicy: 'report-only' }, source: null });
}

/**
 * `capture: auto`: new drift (drift-watch.ts decides what is new, for the notice as for this)
 * queues a capture.
 */
export function captureOnNewDrift(hub: Hub): void {
  try {
    if (hub.config().capture !== 'auto') return;
    queueCapture(hub, { actor: 'edge (capture: auto)', source: null, trigger: 'auto' });
    hub.pump();
  } catch (error) {
    console.error('capture on drift failed', error);
  }
}

/**
 * A deploy that merged host edits into its files: the host's side of them still has to reach git.
 * Only from a relay that can capture: one that cannot would turn every such deploy into a failed
 * capture in the trail (an owner who never set capture up still sees the drift on the page).
 */
export function captureAfterMerge(hub: Hub, deployment: DeploymentView): void {
  if (deployment.status !== 'succeeded' || !deployment.summary?.merged?.length) return;
  const relay = liveRelay(hub);
  if (!relay || !attachmentOf(relay)?.hello?.capabilities.includes(CAPTURE_CAPABILITY)) return;
  queueCapture(hub, { actor: `edge (after ${deployment.id} merged host edits)`, source: null, trigger: 'merged' });
}
