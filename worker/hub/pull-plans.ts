// Pull-request plans at the hub (docs/pull-request-plans.md): the webhook router tells the hub of a
// pull request into the target's branch; the hub keeps one plan per head, hands it to the relay when
// the relay is free, and on the relay's answer puts the check run (or commit status) in the outbox.
//
// Turns at the relay — plans never wait behind deploys longer than needed, and never block one:
//   - a deploy queued (or with the relay) goes first; a plan goes only when no deployment that may go
//     now is queued (a freeze's held deploys do not count), none is dispatched or running, and no
//     capture is with the relay;
//   - a deploy that arrives while a plan is with the relay waits for that one plan only (read-only,
//     seconds), never for the plans queued behind it; a plan with no answer after PLAN_TIMEOUT_MS is
//     given up, so a relay that hangs holds no deploy back for longer;
//   - latest wins per pull request: a newer head supersedes the plan still queued or with the relay
//     (the relay's answer for it is then ignored), and its check run says so.
// A fork's head is never sent to the relay: recorded as `fork`, its check says why.
import { RELAY_CAPABILITIES } from '../../shared/protocol.ts';
import { newId } from '../../shared/ids.ts';
import type { PlannedMessage } from '../../shared/pull-plan.ts';
import { planReport } from '../outward/plan-report.ts';
import { outwardSettings } from '../outward/settings.ts';
import type { PlanCheckPayload } from '../outward/plan-checks.ts';
import { ACTIVE } from './deployments.ts';
import { queueOutward } from './outward.ts';
import type { Hub } from './hub.ts';
import { PullPlanStore, type PullPlanView } from './pull-plan-store.ts';
import { attachmentOf, liveRelay, sendTo } from './relay-socket.ts';

/** How long a plan may stay with the relay unanswered before deploys stop waiting for it. */
export const PLAN_TIMEOUT_MS = 5 * 60_000;

export interface PullRequestSeen {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed';
  pullNumber: number;
  headSha: string;
  baseBranch: string;
  headRepo: string | null;
  /** The head is not in the target's repository (or GitHub no longer knows its repository). */
  fork: boolean;
  title: string;
  author: string | null;
}

const stores = new WeakMap<SqlStorage, PullPlanStore>();

/** The target's plans (the table is made on first use). */
export function pullPlansOf(hub: Hub): PullPlanStore {
  let store = stores.get(hub.sql);
  if (!store) {
    store = new PullPlanStore(hub.sql);
    stores.set(hub.sql, store);
  }
  return store;
}

/** What the hub made of a pull_request delivery, for the delivery ledger. */
export interface PullRequestTaken {
  planId: string | null;
  verdict: 'enqueued' | 'ignored' | 'duplicate';
  reason: string;
}

export function takePullRequest(hub: Hub, seen: PullRequestSeen, now = Date.now()): PullRequestTaken {
  const plans = pullPlansOf(hub);
  const earlier = plans.ofPull(seen.pullNumber);
  if (seen.action === 'closed') {
    for (const p of earlier) {
      if (p.status === 'queued' || p.status === 'sent') plans.update(p.id, { status: 'closed', finished_at: now, reason: 'the pull request was closed' });
    }
    for (const p of earlier) if (p.open) plans.update(p.id, { open: 0 });
    hub.changed();
    return { planId: null, verdict: 'ignored', reason: `pull request #${seen.pullNumber} closed: ${earlier.length ? 'its plans were dropped' : 'it had no plan'}` };
  }
  const same = earlier.find((p) => p.headSha === seen.headSha && p.status !== 'superseded' && p.status !== 'closed');
  if (same) {
    if (!same.open) plans.update(same.id, { open: 1 });
    return { planId: same.id, verdict: 'duplicate', reason: `pull request #${seen.pullNumber} at ${seen.headSha.slice(0, 7)} is planned already (${same.id})` };
  }
  // Latest wins: whatever this pull request still had queued or with the relay is not planned.
  for (const p of earlier) {
    if (p.status === 'queued' || p.status === 'sent') {
      plans.update(p.id, { status: 'superseded', finished_at: now, reason: `superseded by ${seen.headSha.slice(0, 7)}` });
      report(hub, plans.get(p.id)!, now, seen.headSha);
    }
    if (p.open) plans.update(p.id, { open: 0 });
  }
  const id = newId('pln', now);
  plans.insert({
    id, pullNumber: seen.pullNumber, headSha: seen.headSha, baseBranch: seen.baseBranch, headRepo: seen.headRepo,
    title: seen.title.slice(0, 300), author: seen.author?.slice(0, 100) ?? null,
    status: seen.fork ? 'fork' : 'queued',
    reason: seen.fork ? `from a fork (${seen.headRepo ?? 'a deleted repository'}): never fetched or planned` : null,
    requestedAt: now,
  });
  report(hub, plans.get(id)!, now);
  if (!seen.fork) hub.pump();
  hub.changed();
  return seen.fork
    ? { planId: id, verdict: 'ignored', reason: `pull request #${seen.pullNumber} comes from a fork (${seen.headRepo ?? 'a deleted repository'}): not fetched or planned, its check says why` }
    : { planId: id, verdict: 'enqueued', reason: `plan ${id} queued for pull request #${seen.pullNumber} at ${seen.headSha.slice(0, 7)}` };
}

/**
 * True while a plan is with the relay and not overdue: dispatch.ts holds the next deploy back for
 * it (one short read-only run). An overdue one fails here, and the deploy goes.
 */
export function pullPlanHoldsRelay(hub: Hub, now = Date.now()): boolean {
  const plans = pullPlansOf(hub);
  let holds = false;
  for (const p of plans.withStatus('sent')) {
    if ((p.sentAt ?? 0) + PLAN_TIMEOUT_MS > now) {
      holds = true;
      continue;
    }
    plans.update(p.id, { status: 'failed', finished_at: now, reason: `the relay did not answer within ${PLAN_TIMEOUT_MS / 60_000} minutes` });
    report(hub, plans.get(p.id)!, now);
  }
  return holds;
}

/** When the plan with the relay is overdue (the alarm then lets the deploys go), or null. */
export function nextPlanDeadline(hub: Hub): number | null {
  const sent = pullPlansOf(hub).withStatus('sent');
  return sent.length ? Math.min(...sent.map((p) => (p.sentAt ?? 0) + PLAN_TIMEOUT_MS)) : null;
}

/** Hands the oldest queued plan to the relay; only when nothing else is queued, with or for the relay (dispatch.ts calls it last). */
export function dispatchPullPlan(hub: Hub, now = Date.now()): void {
  const plans = pullPlansOf(hub);
  if (plans.withStatus('sent').length) return;
  const next = plans.withStatus('queued')[0];
  if (!next) return;
  // dispatch.ts calls it only when no queued deploy may go now: one held by a freeze does not hold plans back.
  if (hub.deployments.withStatus(ACTIVE).length || hub.captures.withStatus('sent').length) return;
  const relay = liveRelay(hub);
  if (!relay) return;
  if (!attachmentOf(relay)?.hello?.capabilities.includes(RELAY_CAPABILITIES.pullPlans)) {
    // An older relay would not answer: the plans say so instead of waiting for ever.
    for (const p of plans.withStatus('queued')) {
      plans.update(p.id, { status: 'failed', finished_at: now, reason: `the relay does not plan pull requests (it does not name "${RELAY_CAPABILITIES.pullPlans}"): upgrade it` });
      report(hub, plans.get(p.id)!, now);
    }
    return;
  }
  plans.update(next.id, { status: 'sent', sent_at: now });
  sendTo(relay, { type: 'plan', planId: next.id, target: hub.config().name, pullNumber: next.pullNumber, headSha: next.headSha, baseBranch: next.baseBranch });
  report(hub, plans.get(next.id)!, now);
  hub.reschedule();
  hub.changed();
}

/** The relay's answer: recorded and reported, unless the plan was superseded or closed meanwhile. */
export function onPlanned(hub: Hub, message: PlannedMessage, now = Date.now()): void {
  const plans = pullPlansOf(hub);
  const plan = plans.get(message.planId);
  if (plan && plan.status === 'sent') {
    plans.update(plan.id, { status: message.outcome, result: JSON.stringify(message), reason: message.reason, finished_at: now });
    report(hub, plans.get(plan.id)!, now);
  }
  // The relay is free either way: the next deploy or plan goes.
  hub.pump();
  hub.changed();
}

/** The relay's socket went, or a relay said hello: a plan it had may never be answered, so it goes again (a plan is safe to repeat). */
export function requeueSentPlans(hub: Hub): void {
  const plans = pullPlansOf(hub);
  for (const p of plans.withStatus('sent')) plans.update(p.id, { status: 'queued', sent_at: null });
}

/** The check run (or commit status) for the plan as it stands now, through the outbox. */
function report(hub: Hub, plan: PullPlanView, now: number, newerSha?: string): void {
  try {
    const config = hub.config();
    const settings = outwardSettings(hub.env, config);
    if (!settings.github && !settings.githubApp) return;
    const payload: PlanCheckPayload = {
      repo: config.repo,
      target: config.name,
      planId: plan.id,
      sha: plan.headSha,
      report: planReport(config.name, plan, newerSha),
      detailsUrl: settings.statusPageUrl ? `${settings.statusPageUrl}#pull-plans` : null,
    };
    queueOutward(hub, [{ channel: 'github', kind: 'github.plan', deploymentId: plan.id, what: `plan of #${plan.pullNumber} (${plan.status})`, payload }], now);
  } catch (error) {
    console.error('could not queue the report of a pull-request plan', error);
  }
}
