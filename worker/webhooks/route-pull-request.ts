// `pull_request` deliveries (issue 20): which targets plan the pull request, and the hub's answer for
// the delivery ledger. A pull request is planned for a target when it merges into the target's
// deployed branch of the target's repository, and is opened, pushed to (synchronize) or reopened;
// a closed one drops its plans. A fork's head (its repository is not the base's, or GitHub no longer
// knows it) is never planned: the hub records it and its check says why, and the relay is never asked.
import { BaseBranch } from '../../shared/pull-plan.ts';
import { describeZodError } from '../../shared/protocol.ts';
import { loadTargets, type TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import { hubFor } from '../hub/hub-for.ts';
import type { PullRequestSeen } from '../hub/pull-plans.ts';
import type { DeliveryVerdict } from '../ledger/deliveries.ts';
import { PullRequestEvent } from './github-events.ts';

const PLANNED_ACTIONS = new Set(['opened', 'synchronize', 'reopened', 'closed']);

export interface PullRequestRoute {
  repo: string | null;
  ref: string | null;
  sha: string | null;
  action: string | null;
  plans: { target: string; seen: PullRequestSeen }[];
  ignored: string[];
  invalid: string | null;
}

function sameRepo(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Pure: what the delivery means for each target. */
export function routePullRequest(payload: unknown, targets: readonly TargetConfig[]): PullRequestRoute {
  const parsed = PullRequestEvent.safeParse(payload);
  if (!parsed.success) return { repo: null, ref: null, sha: null, action: null, plans: [], ignored: [], invalid: `not a pull_request payload GitHub would send: ${describeZodError(parsed.error)}` };
  const event = parsed.data;
  const pull = event.pull_request;
  const repo = event.repository.full_name;
  const route: PullRequestRoute = { repo, ref: `refs/heads/${pull.base.ref}`, sha: pull.head.sha, action: event.action, plans: [], ignored: [], invalid: null };
  if (!PLANNED_ACTIONS.has(event.action)) {
    route.ignored.push(`pull request #${event.number} ${event.action}: only opened, synchronize, reopened and closed change a plan`);
    return route;
  }
  if (!BaseBranch.safeParse(pull.base.ref).success) {
    route.invalid = 'the pull request\'s base branch is not a branch name git would take';
    return route;
  }
  const mine = targets.filter((t) => sameRepo(t.repo, repo) && sameRepo(pull.base.repo.full_name, repo));
  if (!mine.length) route.ignored.push(`no target deploys repository ${repo}`);
  const headRepo = pull.head.repo?.full_name ?? null;
  const fork = headRepo === null || !sameRepo(headRepo, pull.base.repo.full_name);
  for (const t of mine) {
    if (pull.base.ref !== t.branch) {
      route.ignored.push(`${t.name}: pull request #${event.number} merges into ${pull.base.ref}, but ${t.name} deploys ${t.branch}`);
      continue;
    }
    route.plans.push({
      target: t.name,
      seen: {
        action: event.action as PullRequestSeen['action'],
        pullNumber: event.number,
        headSha: pull.head.sha,
        baseBranch: pull.base.ref,
        headRepo,
        fork,
        title: pull.title ?? '',
        author: pull.user?.login ?? event.sender?.login ?? null,
      },
    });
  }
  return route;
}

export interface PullRequestDelivery {
  record: { repo: string | null; ref: string | null; sha: string | null; action: string | null };
  status: 200 | 202 | 400;
  verdict: DeliveryVerdict;
  reason: string;
  plans: { target: string; planId: string | null }[];
}

/** Routes the delivery and tells each target's hub; the webhook router records and answers it. */
export async function takePullRequestDelivery(env: Env, payload: unknown): Promise<PullRequestDelivery> {
  const route = routePullRequest(payload, loadTargets(env.TARGETS));
  const record = { repo: route.repo, ref: route.ref, sha: route.sha, action: route.action };
  if (route.invalid) return { record, status: 400, verdict: 'invalid', reason: route.invalid, plans: [] };
  const taken = await Promise.all(route.plans.map(async (p) => ({ target: p.target, ...(await hubFor(env, p.target).notePullRequest(p.target, p.seen)) })));
  const reason = [...taken.map((t) => `${t.target}: ${t.reason}`), ...route.ignored].join('; ') || 'nothing to plan';
  const verdict: DeliveryVerdict = taken.some((t) => t.verdict === 'enqueued') ? 'enqueued' : taken.length && taken.every((t) => t.verdict === 'duplicate') ? 'duplicate' : 'ignored';
  return { record, status: verdict === 'enqueued' ? 202 : 200, verdict, reason, plans: taken.map((t) => ({ target: t.target, planId: t.planId })) };
}
