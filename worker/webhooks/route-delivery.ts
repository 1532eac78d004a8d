// Decides what a verified GitHub delivery means for each configured target. Pure: the router
// feeds it the event name, the parsed JSON and the targets, and carries out what it returns.
import { z } from 'zod';
import type { TriggerKind } from '../../shared/deployment.ts';
import { httpUrlOrNull } from '../../shared/http-url.ts';
import { describeZodError } from '../../shared/protocol.ts';
import type { TargetConfig } from '../config/targets.ts';
import { PushEvent, RepositoryDispatchEvent, WorkflowRunEvent } from './github-events.ts';
import { routeTagPush } from './route-tag-push.ts';

export interface DeployIntent {
  target: string;
  sha: string | null;
  ref: string | null;
  trigger: TriggerKind;
  actor: string;
  message: string | null;
  author: string | null;
  /** A push's `before` (the hub tells a push delivered late from a new one by it); pushes only. */
  pushedOver?: string;
}

export interface BranchHeadSeen {
  target: string;
  sha: string;
  message: string;
  author: string | null;
  /** The push's `before`, as for DeployIntent. */
  pushedOver?: string;
}

/** The target's gating workflow started (conclusion null) or completed without success for a push to its branch. */
export interface WorkflowVerdictSeen {
  target: string;
  sha: string;
  /** As the target's trigger names it. */
  workflow: string;
  /** null: the run has started and not concluded yet (e.g. a re-run after a failure). */
  conclusion: string | null;
  url: string | null;
}

export interface DeliveryRoute {
  repo: string | null;
  ref: string | null;
  sha: string | null;
  action: string | null;
  deploy: DeployIntent[];
  branchHeads: BranchHeadSeen[];
  verdicts: WorkflowVerdictSeen[];
  /** Why nothing was deployed, per target or for the whole delivery (target null). */
  ignored: { target: string | null; reason: string }[];
  /** The payload did not have the shape this event must have. */
  invalid: string | null;
}

const ZERO_SHA = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;

function empty(partial: Partial<DeliveryRoute>): DeliveryRoute {
  return { repo: null, ref: null, sha: null, action: null, deploy: [], branchHeads: [], verdicts: [], ignored: [], invalid: null, ...partial };
}

function sameRepo(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function parse<T extends z.ZodType>(schema: T, payload: unknown, event: string): { ok: true; value: z.infer<T> } | { ok: false; route: DeliveryRoute } {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, route: empty({ invalid: `not a ${event} payload GitHub would send: ${describeZodError(parsed.error)}` }) };
}

export function routeDelivery(event: string, payload: unknown, targets: readonly TargetConfig[]): DeliveryRoute {
  switch (event) {
    case 'push': {
      const parsed = parse(PushEvent, payload, event);
      return parsed.ok ? routePush(parsed.value, targets) : parsed.route;
    }
    case 'workflow_run': {
      const parsed = parse(WorkflowRunEvent, payload, event);
      return parsed.ok ? routeWorkflowRun(parsed.value, targets) : parsed.route;
    }
    case 'repository_dispatch': {
      const parsed = parse(RepositoryDispatchEvent, payload, event);
      return parsed.ok ? routeDispatch(parsed.value, targets) : parsed.route;
    }
    default:
      return empty({ ignored: [{ target: null, reason: `event "${event}" does not deploy anything` }] });
  }
}

function routePush(push: PushEvent, targets: readonly TargetConfig[]): DeliveryRoute {
  const repo = push.repository.full_name;
  const route = empty({ repo, ref: push.ref, sha: push.after });
  const mine = targets.filter((t) => sameRepo(t.repo, repo));
  if (!mine.length) {
    route.ignored.push({ target: null, reason: `no target deploys repository ${repo}` });
    return route;
  }
  if (push.ref.startsWith('refs/tags/')) return routeTagPush(push, mine, route);
  if (push.deleted || ZERO_SHA.test(push.after)) {
    route.ignored.push({ target: null, reason: `branch ${push.ref.replace('refs/heads/', '')} was deleted; nothing to deploy` });
    return route;
  }
  if (!SHA.test(push.after)) {
    route.invalid = `push names commit "${push.after}", which is not a 40-character sha`;
    return route;
  }
  const actor = push.pusher?.name ?? push.sender?.login ?? 'github';
  // `head_commit` is null when the push moved the branch without new commits (e.g. a branch
  // created at an existing commit); the commit is still `after`.
  const message = push.head_commit?.message ?? null;
  const author = push.head_commit?.author?.name ?? push.head_commit?.author?.username ?? null;
  // Where the branch stood before this push (000…0 when it created the branch): the hub judges by
  // it whether a later push was delivered first. A malformed one is left out, not trusted.
  const pushedOver = push.before !== undefined && SHA.test(push.before) ? { pushedOver: push.before } : {};
  for (const t of mine) {
    if (push.ref !== `refs/heads/${t.branch}`) {
      route.ignored.push({ target: t.name, reason: `push to ${push.ref.replace('refs/heads/', '')}, but ${t.name} deploys ${t.branch}` });
      continue;
    }
    route.branchHeads.push({ target: t.name, sha: push.after, message: message ?? '', author, ...pushedOver });
    if (t.trigger.type !== 'push') {
      route.ignored.push({ target: t.name, reason: waitsFor(t) });
      continue;
    }
    route.deploy.push({ target: t.name, sha: push.after, ref: push.ref, trigger: 'push', actor, message, author, ...pushedOver });
  }
  return route;
}

function waitsFor(t: TargetConfig): string {
  switch (t.trigger.type) {
    case 'workflow_run':
      return `${t.name} deploys after workflow "${t.trigger.workflow}" succeeds for this commit`;
    case 'dispatch':
      return `${t.name} deploys on repository_dispatch "${t.trigger.eventType}"`;
    case 'push':
      return `${t.name} deploys on push`;
    case 'tag':
      return `${t.name} deploys tags ${t.trigger.pattern}, not pushes to ${t.branch}: push a matching tag to deploy this commit`;
  }
}

function routeWorkflowRun(event: WorkflowRunEvent, targets: readonly TargetConfig[]): DeliveryRoute {
  const run = event.workflow_run;
  const repo = event.repository.full_name;
  const route = empty({ repo, ref: run.head_branch ? `refs/heads/${run.head_branch}` : null, sha: run.head_sha, action: event.action });
  const mine = targets.filter((t) => sameRepo(t.repo, repo) && t.trigger.type === 'workflow_run');
  if (!mine.length) {
    route.ignored.push({ target: null, reason: `no target of ${repo} deploys on workflow_run` });
    return route;
  }
  const workflowName = run.name ?? run.path ?? '(unnamed)';
  for (const t of mine) {
    if (t.trigger.type !== 'workflow_run') continue;
    if (run.name !== t.trigger.workflow && !run.path?.endsWith(`/${t.trigger.workflow}`)) {
      route.ignored.push({ target: t.name, reason: `workflow "${workflowName}" is not the one ${t.name} waits for ("${t.trigger.workflow}")` });
      continue;
    }
    // Only runs of pushes to the branch of this very repository count: a pull request from a fork
    // can have a branch called "main" too.
    if (run.event !== 'push' || run.head_branch !== t.branch || (run.head_repository && !sameRepo(run.head_repository.full_name, repo))) {
      route.ignored.push({ target: t.name, reason: `workflow ran for ${run.event} on ${run.head_branch ?? '(no branch)'}, not for a push to ${t.branch}` });
      continue;
    }
    if (event.action !== 'completed') {
      route.ignored.push({ target: t.name, reason: `workflow "${workflowName}" is ${event.action}, not completed yet` });
      // The status shows the run as under way (a re-run replaces an earlier failure).
      if ((event.action === 'requested' || event.action === 'in_progress') && SHA.test(run.head_sha)) {
        route.verdicts.push({ target: t.name, sha: run.head_sha, workflow: t.trigger.workflow, conclusion: null, url: httpUrlOrNull(run.html_url) });
      }
      continue;
    }
    if (run.conclusion !== 'success') {
      route.ignored.push({ target: t.name, reason: `workflow "${workflowName}" concluded ${run.conclusion ?? 'without a conclusion'}; commit ${run.head_sha.slice(0, 7)} is not deployed` });
      // The hub remembers it, so the status says why this commit is not deploying. It blocks
      // nothing: a later successful run of the same commit deploys it.
      if (run.conclusion && SHA.test(run.head_sha)) {
        route.verdicts.push({ target: t.name, sha: run.head_sha, workflow: t.trigger.workflow, conclusion: run.conclusion, url: httpUrlOrNull(run.html_url) });
      }
      continue;
    }
    if (!SHA.test(run.head_sha)) {
      route.invalid = `workflow_run names commit "${run.head_sha}", which is not a 40-character sha`;
      return route;
    }
    route.deploy.push({
      target: t.name,
      sha: run.head_sha,
      ref: `refs/heads/${t.branch}`,
      trigger: 'workflow_run',
      actor: event.sender?.login ?? 'github-actions',
      message: run.head_commit?.message ?? null,
      author: run.head_commit?.author?.name ?? null,
    });
  }
  return route;
}

function routeDispatch(event: RepositoryDispatchEvent, targets: readonly TargetConfig[]): DeliveryRoute {
  const repo = event.repository.full_name;
  const sha = event.client_payload?.sha ?? null;
  const route = empty({ repo, sha, action: event.action });
  const mine = targets.filter((t) => sameRepo(t.repo, repo) && t.trigger.type === 'dispatch');
  if (!mine.length) route.ignored.push({ target: null, reason: `no target of ${repo} deploys on repository_dispatch` });
  for (const t of mine) {
    if (t.trigger.type !== 'dispatch') continue;
    if (event.action !== t.trigger.eventType) {
      route.ignored.push({ target: t.name, reason: `dispatch type "${event.action}" is not "${t.trigger.eventType}"` });
      continue;
    }
    if (sha !== null && !SHA.test(sha)) {
      route.invalid = `client_payload.sha "${sha}" is not a 40-character lowercase sha`;
      return route;
    }
    route.deploy.push({ target: t.name, sha, ref: null, trigger: 'dispatch', actor: event.sender?.login ?? 'github', message: null, author: null });
  }
  return route;
}
