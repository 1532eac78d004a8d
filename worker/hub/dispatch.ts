// Handing jobs to the relay: one at a time, the oldest queued first, and only to a relay that said
// hello. The job names a commit and the target's settings, never content or a command: the relay
// fetches and checks what it deploys itself.
import { MAX_REQUESTED_BY_CHARS } from '../../shared/protocol.ts';
import { dispatchCapture } from './captures.ts';
import { dispatchPullPlan, pullPlanHoldsRelay } from './pull-plans.ts';
import { driftPolicyFor } from './drift-choice.ts';
import { ACTIVE } from './deployments.ts';
import { mayDispatch } from './freeze.ts';
import type { Hub } from './hub.ts';
import { liveRelay, sendTo } from './relay-socket.ts';
import { mayRestartFor } from './restart-windows.ts';
import { traceparentOf } from '../traces/trace-ids.ts';

/** Hands the next queued job to the relay, if there is a relay and nothing is running. */
export function dispatchNext(hub: Hub): void {
  if (hub.deployments.withStatus(ACTIVE).length > 0) return;
  // A capture goes before the next job, and a job never goes while one is with the relay.
  if (dispatchCapture(hub)) return;
  // A pull-request plan with the relay is short and read-only: a deploy waits for it, no longer (pull-plans.ts).
  if (pullPlanHoldsRelay(hub)) return;
  const relay = liveRelay(hub);
  if (!relay) return;
  // A freeze holds back all but a rollback an admin forced through it (freeze.ts).
  const next = hub.deployments.withStatus(['queued']).find((d) => mayDispatch(hub, d));
  // Nothing that may deploy now (none queued, or all held by a freeze): the relay's turn goes to the oldest queued plan.
  if (!next) return dispatchPullPlan(hub);
  const now = Date.now();
  const attempt = next.attempt + 1;
  hub.deployments.update(next.id, { status: 'dispatched', attempt, dispatched_at: now, reason: null });
  const config = hub.config();
  sendTo(relay, {
    type: 'job',
    jobId: next.id,
    attempt,
    kind: next.kind,
    target: config.name,
    sha: next.sha,
    ref: next.ref,
    backupId: next.restoreBackupId,
    // The target's policy, unless an operator chose a way on from drift for this deployment only.
    driftPolicy: driftPolicyFor(next, config.driftPolicy),
    // The relay takes one line of at most MAX_REQUESTED_BY_CHARS; an actor is a name, so cutting it loses nothing that matters.
    requestedBy: next.actor.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_REQUESTED_BY_CHARS),
    commitMessage: next.message.slice(0, 4096),
    // Issue 18: whether a restart may happen now (restart-windows.ts); absent for a relay that cannot hold one.
    ...withMayRestart(mayRestartFor(hub, next, relay, now)),
    // Issue 20, traces: the relay's step spans join the deployment's trace under this attempt's dispatch span.
    traceparent: traceparentOf(config.name, next.id, attempt),
  });
  // The ack is now owed (leases.ts).
  hub.reschedule();
  hub.changed();
}

function withMayRestart(mayRestart: boolean | undefined): { mayRestart?: boolean } {
  return mayRestart === undefined ? {} : { mayRestart };
}
